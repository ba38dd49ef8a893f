/* report.c — the verifier's JSON report (dlm_verify.h, docs/report-format.md): one
 * writer for `dlmsim verify --json` and the Python binding. */
#include "dlm_util.h"
#include "dlm_verify.h"

void dlm_verify_write_json(FILE *f, const char *path, const dlm_verify_report *r)
{
    fprintf(f, "{\"circuit\":");
    dlm_json_str(f, path);
    fprintf(f, ",\"mode\":\"%s\",\"backend\":\"%s\",\"chains\":%llu,\"seed\":%llu,\"alpha\":",
            dlm_mode_name(r->mode), r->from_counts ? "counts" : dlm_backend_name(r->backend),
            (unsigned long long)r->chains, (unsigned long long)r->seed);
    dlm_json_num(f, r->alpha);
    fprintf(f, ",\"target_kind\":\"%s\",\"target\":", dlm_target_kind_name(r->target_kind));
    dlm_json_str(f, r->target_desc);
    if (r->target_kind == DLM_TKIND_REFERENCE)
        fprintf(f, ",\"reference\":{\"seed\":%llu,\"chains\":%llu}", (unsigned long long)r->ref_seed,
                (unsigned long long)r->ref_chains);
    else
        fprintf(f, ",\"reference\":null");
    if (r->injected) {
        fprintf(f, ",\"inject_bias\":{\"coin\":%u,\"eps\":", r->inject_coin);
        dlm_json_num(f, r->inject_eps);
        fprintf(f, "}");
    } else {
        fprintf(f, ",\"inject_bias\":null");
    }
    fprintf(f, ",\"invariants\":[");
    for (uint32_t i = 0; i < r->ninv; i++) {
        const dlm_invariant *v = &r->inv[i];
        fprintf(f, "%s{\"name\":\"%s\",\"checked\":%llu,\"violations\":%llu,\"pass\":%s,\"detail\":", i ? "," : "",
                v->name, (unsigned long long)v->checked, (unsigned long long)v->violations,
                v->pass ? "true" : "false");
        dlm_json_str(f, v->detail);
        fprintf(f, "}");
    }
    fprintf(f, "],\"tests\":[");
    for (size_t i = 0; i < r->ntests; i++) {
        const dlm_test_result *t = &r->tests[i];
        fprintf(f, "%s{\"name\":\"%s\",\"statistic\":", i ? "," : "", t->name);
        dlm_json_num(f, t->stat);
        fprintf(f, ",\"df\":");
        dlm_json_num(f, t->df);
        fprintf(f, ",\"p\":");
        dlm_json_num(f, t->p);
        fprintf(f, ",\"p_holm\":");
        dlm_json_num(f, t->p_holm);
        fprintf(f, ",\"pass\":%s}", t->pass ? "true" : "false");
    }
    fprintf(f, "],\"tv\":");
    if (r->have_tv) dlm_json_num(f, r->tv);
    else fprintf(f, "null");
    fprintf(f, ",\"tv_upper\":");
    if (r->have_tv) dlm_json_num(f, r->tv_upper);
    else fprintf(f, "null");
    fprintf(f, ",\"detectable_bias\":");
    dlm_json_num(f, r->detect_bias);
    fprintf(f, ",\"duplicate_tests\":%u", r->dup_tests);
    fprintf(f, ",\"seconds\":{\"target\":%.6f,\"sample\":%.6f,\"tests\":%.6f}", r->seconds_target,
            r->seconds_sample, r->seconds_tests);
    fprintf(f, ",\"verdict\":\"%s\"}\n", r->pass ? "PASS" : "FAIL");
}
