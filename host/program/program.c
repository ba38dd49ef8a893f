/* program.c — what the compiler (compile.c) and the checker (check.c) share: the
 * decoding modes' names and a program's lifetime. It calls neither. */
#include "dlm_program.h"

#include <stdlib.h>
#include <string.h>

const char *dlm_mode_name(dlm_mode m)
{
    static const char *const names[DLM_NMODES] = {"cot", "remask", "revise", "ar"};
    return (unsigned)m < DLM_NMODES ? names[m] : "?";
}

int dlm_mode_parse(const char *s, dlm_mode *m)
{
    for (int i = 0; i < DLM_NMODES; i++)
        if (strcmp(s, dlm_mode_name((dlm_mode)i)) == 0) {
            *m = (dlm_mode)i;
            return 0;
        }
    return -1;
}

void dlm_program_free(dlm_program *p)
{
    if (!p) return;
    free(p->ops);
    free(p->round_start);
    free(p->out_pos);
    free(p->out_neg);
    memset(p, 0, sizeof *p);
}
