# mk/install.mk — `make install` (included by the Makefile). Written only in terms of the
# Makefile's variables (BUILD, CC, CUDA, CUDA_HOME, LDLIBS, ...) and its rule for
# $(BUILD)/libdlmsim.a, so it follows however the sources are laid out.
#
#   make install PREFIX=/usr/local [DESTDIR=/stage]
#     bin/dlmsim                        the command line
#     lib/libdlmsim.a                   static library
#     lib/libdlmsim.so.V (+ .so.0, .so) shared library (objects built with -fPIC in
#                                        $(BUILD)/pic: the same Makefile, BUILD=$(BUILD)/pic PIC=1)
#     include/dlmsim/*.h                the public headers (include/*.h)
#     lib/pkgconfig/dlmsim.pc           cflags and libs; Libs.private for --static
#                                        (GSL, libgomp, libm; cuRAND and the CUDA runtime
#                                        when built with CUDA)
#     share/man/man1/dlmsim.1           made by mk/man.sh from `dlmsim --help` (and each
#                                        subcommand's --help that exists)
#   make uninstall PREFIX=... [DESTDIR=...]  removes exactly those files
#   make shared                          only $(BUILD)/libdlmsim.so and the man page

# the install test (test/install_test.sh) builds with pkg-config and renders the page
PKG_HEADERS += /usr/bin/pkg-config:pkg-config /usr/bin/groff:groff-base

PREFIX ?= /usr/local
DESTDIR ?=
INSTALL ?= install
DLM_VERSION := $(shell sed -n 's/^\#define DLMSIM_VERSION "\(.*\)"/\1/p' include/dlmsim.h)
DLM_SOMAJOR := $(firstword $(subst ., ,$(DLM_VERSION)))
PIC ?= 0
ifeq ($(PIC),1)
CFLAGS += -fPIC
NVCCFLAGS += -Xcompiler -fPIC
endif

DLM_SO = $(BUILD)/libdlmsim.so
DLM_PC = $(BUILD)/dlmsim.pc
DLM_MAN = $(BUILD)/dlmsim.1
DLM_PIC_AR = $(BUILD)/pic/libdlmsim.a
# what the static library needs beyond itself, for pkg-config --static and the .so
DLM_PC_PRIVATE = -lgsl -lgslcblas -lgomp -lm
ifeq ($(CUDA),1)
DLM_PC_PRIVATE += -L$(CUDA_HOME)/lib64 -Wl,-rpath,$(CUDA_HOME)/lib64 -lcurand -lcudart -lnvrtc -lstdc++
endif

ifneq ($(filter install uninstall,$(MAKECMDGOALS)),)
ifeq ($(filter /%,$(PREFIX)),)
$(error PREFIX must be an absolute path, not '$(PREFIX)')
endif
endif

.PHONY: install uninstall shared FORCE
shared: $(DLM_SO) $(DLM_MAN)

# The -fPIC objects: a sub-make of this same Makefile into $(BUILD)/pic, so every rule
# and per-file flag of the normal build applies. FORCE: the sub-make decides what is stale.
$(DLM_PIC_AR): FORCE | $(DEPS_STAMP)
	@$(MAKE) --no-print-directory BUILD=$(BUILD)/pic PIC=1 $(BUILD)/pic/libdlmsim.a
FORCE:

$(DLM_SO): $(DLM_PIC_AR)
	$(CC) -shared -Wl,-soname,libdlmsim.so.$(DLM_SOMAJOR) -Wl,--no-undefined $(LDFLAGS) \
	    -o $@ -Wl,--whole-archive $< -Wl,--no-whole-archive $(LDLIBS)

$(DLM_PC): FORCE # cheap, and PREFIX may differ from the last call
	@mkdir -p $(dir $@)
	@{ echo 'prefix=$(PREFIX)'; echo 'exec_prefix=$${prefix}'; echo 'libdir=$${exec_prefix}/lib'; \
	   echo 'includedir=$${prefix}/include'; echo; \
	   echo 'Name: dlmsim'; \
	   echo 'Description: batched sampler for DLM programs compiled from circuits (CPU$(if $(filter 1,$(CUDA)), and CUDA) backends)'; \
	   echo 'Version: $(DLM_VERSION)'; \
	   echo 'Cflags: -I$${includedir}/dlmsim -DDLM_HAVE_CUDA=$(CUDA)'; \
	   echo 'Libs: -L$${libdir} -Wl,-rpath,$${libdir} -ldlmsim'; \
	   echo 'Libs.private: $(DLM_PC_PRIVATE)'; } >$@

$(DLM_MAN): $(BUILD)/dlmsim mk/man.sh
	bash mk/man.sh $(BUILD)/dlmsim $(DLM_VERSION) >$@.tmp && mv $@.tmp $@

install: $(BUILD)/dlmsim $(BUILD)/libdlmsim.a $(DLM_SO) $(DLM_PC) $(DLM_MAN)
	$(INSTALL) -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/pkgconfig \
	    $(DESTDIR)$(PREFIX)/include/dlmsim $(DESTDIR)$(PREFIX)/share/man/man1
	$(INSTALL) -m 755 $(BUILD)/dlmsim $(DESTDIR)$(PREFIX)/bin/dlmsim
	$(INSTALL) -m 644 $(BUILD)/libdlmsim.a $(DESTDIR)$(PREFIX)/lib/libdlmsim.a
	$(INSTALL) -m 755 $(DLM_SO) $(DESTDIR)$(PREFIX)/lib/libdlmsim.so.$(DLM_VERSION)
	ln -sf libdlmsim.so.$(DLM_VERSION) $(DESTDIR)$(PREFIX)/lib/libdlmsim.so.$(DLM_SOMAJOR)
	ln -sf libdlmsim.so.$(DLM_SOMAJOR) $(DESTDIR)$(PREFIX)/lib/libdlmsim.so
	$(INSTALL) -m 644 include/*.h $(DESTDIR)$(PREFIX)/include/dlmsim/
	$(INSTALL) -m 644 $(DLM_PC) $(DESTDIR)$(PREFIX)/lib/pkgconfig/dlmsim.pc
	$(INSTALL) -m 644 $(DLM_MAN) $(DESTDIR)$(PREFIX)/share/man/man1/dlmsim.1

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/dlmsim $(DESTDIR)$(PREFIX)/lib/libdlmsim.a \
	    $(DESTDIR)$(PREFIX)/lib/libdlmsim.so $(DESTDIR)$(PREFIX)/lib/libdlmsim.so.$(DLM_SOMAJOR) \
	    $(DESTDIR)$(PREFIX)/lib/libdlmsim.so.$(DLM_VERSION) \
	    $(DESTDIR)$(PREFIX)/lib/pkgconfig/dlmsim.pc $(DESTDIR)$(PREFIX)/share/man/man1/dlmsim.1 \
	    $(addprefix $(DESTDIR)$(PREFIX)/include/dlmsim/,$(notdir $(wildcard include/*.h)))
	-rmdir $(DESTDIR)$(PREFIX)/include/dlmsim 2>/dev/null
