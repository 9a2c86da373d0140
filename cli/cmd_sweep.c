/* coldtok sweep: a sharded run (drift; or probe, diff, coverage) as Slurm batch scripts. It writes,
 * into one folder, a job array with one task per shard (`coldtok drift ... --shard I/N`), a merge
 * job (`coldtok merge`) and submit.sh, which submits the array and then the merge with --dependency=afterok on it; with
 * --submit it runs submit.sh. Nothing here talks to Slurm but through sbatch in submit.sh, so a
 * sweep submitted by hand and one submitted by --submit are the same (docs/scale.md). */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/cli.h"

static const char HELP[] =
    "usage: coldtok sweep --shards N -o DIR [options] -- [COMMAND] OPTIONS...\n"
    "\n"
    "Writes a coldtok run split into N shards as Slurm batch scripts in DIR. COMMAND is drift (the\n"
    "default), probe, diff or coverage; OPTIONS are its own (drift: the models or --manifest, --corpus,\n"
    "--ctx, --max-tokens, --seed, --bootstrap, --compare ...) but -o, --shard, --positions and --csv,\n"
    "which the sweep sets or the shards cannot take:\n"
    "  DIR/COMMAND.sbatch  a job array of N tasks; task I runs\n"
    "                      coldtok COMMAND OPTIONS --shard I/N -o DIR/shards/I\n"
    "  DIR/merge.sbatch    coldtok merge DIR/shards/1 ... DIR/shards/N -o DIR/results\n"
    "  DIR/submit.sh       submits the array, then the merge with --dependency=afterok on it\n"
    "and prints how to submit them. The task logs go to DIR/logs. The jobs run in the current folder\n"
    "(relative paths in OPTIONS stay valid) with this coldtok binary. A failed task is rerun alone\n"
    "with `sbatch --array=I DIR/COMMAND.sbatch`, then the merge submitted after it (docs/scale.md).\n"
    "\n"
    "  -n, --shards N          shards, the array's tasks (1 to 65535)\n"
    "  -o, --out DIR           the sweep's folder (made if missing)\n"
    "      --submit            run DIR/submit.sh (sbatch must be on the PATH)\n"
    "      --max-parallel K    at most K tasks of the array at once (--array=1-N%K)\n"
    "      --partition P       #SBATCH --partition of both jobs\n"
    "      --account A         #SBATCH --account of both jobs\n"
    "      --time T            #SBATCH --time of each task (Slurm's formats: 30, 2:00:00, 1-0)\n"
    "      --mem M             #SBATCH --mem of each task (e.g. 16G)\n"
    "      --cpus-per-task C   #SBATCH --cpus-per-task of each task (its forward-pass threads)\n"
    "      --sbatch ARG        one more #SBATCH line in both scripts, e.g. --sbatch=--qos=long\n"
    "                          (repeatable)\n"
    "      --positions FILE    have the merge write the unsharded run's --positions file\n"
    "      --coldtok PATH      the coldtok binary the jobs run (default: this one)\n";

typedef struct {
    const char *command; /* drift, probe, diff or coverage */
    long shards, max_parallel;
    const char *out, *partition, *account, *time, *mem, *cpus, *positions, *coldtok;
    const char **sbatch; /* extra #SBATCH lines */
    int nsbatch, submit;
} Sweep;

/* ---- shell text ---- */

/* ARG as one shell word: bare when it is made of characters no shell treats specially, else in
 * single quotes (a quote inside as '\''). */
static void sh_word(Buf *b, const char *arg) {
    if (*arg && strspn(arg, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_@%+=:,./-") == strlen(arg)) {
        buf_puts(b, arg);
        return;
    }
    buf_putc(b, '\'');
    for (const char *p = arg; *p; p++)
        if (*p == '\'') buf_puts(b, "'\\''");
        else buf_putc(b, *p);
    buf_putc(b, '\'');
}

/* sbatch reads an #SBATCH line's words itself, and --output expands %: a path written there must
 * hold none of blanks, quotes, backslashes or %. */
static int sbatch_safe(const char *s) { return strcspn(s, " \t\n\r\"'\\%") == strlen(s); }

/* The #SBATCH lines both jobs share: partition, account and the --sbatch lines. */
static void shared_directives(Buf *b, const Sweep *s) {
    if (s->partition) buf_printf(b, "#SBATCH --partition=%s\n", s->partition);
    if (s->account) buf_printf(b, "#SBATCH --account=%s\n", s->account);
    for (int i = 0; i < s->nsbatch; i++) buf_printf(b, "#SBATCH %s\n", s->sbatch[i]);
}

/* drift.sbatch: task I of the array is shard I of N. */
static void drift_script(Buf *b, const Sweep *s, const char *dir, const char *cwd, const char *exe, char **drift,
                         int ndrift) {
    buf_printf(b,
               "#!/bin/sh\n"
               "# One shard of a coldtok %s run: task I of this job array runs shard I of %ld.\n"
               "# Written by `coldtok sweep` (docs/scale.md); submit.sh submits it, then the merge.\n"
               "# Rerun failed tasks alone with: sbatch --array=I[,J...] %s/%s.sbatch\n"
               "#SBATCH --job-name=coldtok-%s\n",
               s->command, s->shards, dir, s->command, s->command);
    buf_printf(b, "#SBATCH --array=1-%ld", s->shards);
    if (s->max_parallel) buf_printf(b, "%%%ld", s->max_parallel);
    buf_printf(b, "\n#SBATCH --output=%s/logs/%s-%%A_%%a.out\n", dir, s->command);
    if (s->time) buf_printf(b, "#SBATCH --time=%s\n", s->time);
    if (s->mem) buf_printf(b, "#SBATCH --mem=%s\n", s->mem);
    if (s->cpus) buf_printf(b, "#SBATCH --cpus-per-task=%s\n", s->cpus);
    shared_directives(b, s);
    buf_puts(b, "i=${SLURM_ARRAY_TASK_ID:?submit this script with sbatch: it is a job array}\n"
                "# the forward pass's threads: the task's CPUs, unless OMP_NUM_THREADS is set\n"
                "if [ -z \"${OMP_NUM_THREADS:-}\" ] && [ -n \"${SLURM_CPUS_PER_TASK:-}\" ]; then\n"
                "    OMP_NUM_THREADS=$SLURM_CPUS_PER_TASK; export OMP_NUM_THREADS\n"
                "fi\n"
                "cd ");
    sh_word(b, cwd);
    buf_puts(b, " || exit 1\nexec ");
    sh_word(b, exe);
    buf_printf(b, " %s", s->command);
    for (int i = 0; i < ndrift; i++) buf_putc(b, ' '), sh_word(b, drift[i]);
    buf_printf(b, " --shard \"$i/%ld\" -o ", s->shards);
    sh_word(b, dir);
    buf_puts(b, "/shards/\"$i\"\n");
}

/* merge.sbatch: every shard's folder, in order, so that merge names any one missing. */
static void merge_script(Buf *b, const Sweep *s, const char *dir, const char *cwd, const char *exe) {
    buf_printf(b,
               "#!/bin/sh\n"
               "# The merge of the %ld shards of one coldtok %s run into %s/results: the unsharded\n"
               "# run's CSV files. Written by `coldtok sweep` (docs/scale.md); submit.sh submits it with\n"
               "# --dependency=afterok on the array. merge names a missing shard and writes nothing.\n"
               "#SBATCH --job-name=coldtok-merge\n"
               "#SBATCH --output=%s/logs/merge-%%j.out\n",
               s->shards, s->command, dir, dir);
    shared_directives(b, s);
    buf_puts(b, "cd ");
    sh_word(b, cwd);
    buf_printf(b, " || exit 1\nset --\ni=1\nwhile [ \"$i\" -le %ld ]; do\n    set -- \"$@\" ", s->shards);
    sh_word(b, dir);
    buf_puts(b, "/shards/\"$i\"\n    i=$((i + 1))\ndone\nexec ");
    sh_word(b, exe);
    buf_puts(b, " merge \"$@\" -o ");
    sh_word(b, dir);
    buf_puts(b, "/results");
    if (s->positions) buf_puts(b, " --positions "), sh_word(b, s->positions);
    buf_putc(b, '\n');
}

/* submit.sh: the array, then the merge after it; sbatch --parsable prints "ID" or "ID;CLUSTER". */
static void submit_script(Buf *b, const Sweep *s, const char *dir) {
    Buf d = {0};
    sh_word(&d, dir);
    buf_printf(b,
               "#!/bin/sh\n"
               "# Submits the %ld-task job array of %s shards, then the merge, which Slurm starts once\n"
               "# every task has succeeded (--dependency=afterok). Written by `coldtok sweep` (docs/scale.md).\n"
               "set -e\n"
               "array=$(sbatch --parsable %s/%s.sbatch)\n"
               "array=${array%%%%;*}\n"
               "merge=$(sbatch --parsable --dependency=afterok:\"$array\" %s/merge.sbatch)\n"
               "merge=${merge%%%%;*}\n"
               "printf 'array %%s\\nmerge %%s\\n' \"$array\" \"$merge\" > %s/jobs\n"
               "echo \"submitted: array job $array (%ld tasks), merge job $merge (afterok:$array)\"\n",
               s->shards, s->command, d.data, s->command, d.data, d.data, s->shards);
    buf_free(&d);
}

/* ---- checks ---- */

/* The options the sweep sets itself or a shard cannot take, as typed (a long option may be
 * abbreviated): -o, --shard, --help; drift's --positions; coverage's --csv. */
static const char *owned_option(const char *arg, const char *command) {
    const char *owned[] = {"out", "shard", "help", !strcmp(command, "drift") ? "positions" : "out",
                           !strcmp(command, "coverage") ? "csv" : "out"};
    if (!strncmp(arg, "-o", 2) || !strcmp(arg, "-h")) return arg;
    if (strncmp(arg, "--", 2) || !arg[2]) return NULL;
    size_t len = strcspn(arg + 2, "=");
    for (size_t i = 0; i < sizeof owned / sizeof *owned; i++)
        if (len <= strlen(owned[i]) && !strncmp(arg + 2, owned[i], len)) return arg;
    return NULL;
}

/* The value of a path option at ARGV[*i] (-m PATH, -mPATH, --model PATH, --model=PATH and likewise
 * --corpus, --manifest, -t/--tokenizer, --keywords), stepping *i past a separate value; NULL for any
 * other argument. A tokenizer's [NAME=]PATH is cut by cli_labelled_path. */
static const char *path_value(char **argv, int n, int *i, int *tokenizer) {
    static const char *const longs[] = {"--model", "--corpus", "--manifest", "--tokenizer", "--keywords"};
    const char *a = argv[*i];
    *tokenizer = !strncmp(a, "-t", 2) || !strncmp(a, "--tokenizer", 11);
    if ((!strncmp(a, "-m", 2) || !strncmp(a, "-t", 2)) && a[1] && strncmp(a, "--", 2)) {
        if (a[2]) return a + 2;
        return *i + 1 < n ? argv[++*i] : NULL;
    }
    for (size_t k = 0; k < sizeof longs / sizeof *longs; k++) {
        size_t len = strlen(longs[k]);
        if (strncmp(a, longs[k], len)) continue;
        if (a[len] == '=') return a + len + 1;
        if (!a[len]) return *i + 1 < n ? argv[++*i] : NULL;
    }
    return NULL;
}

/* Refuses, before any script is written, what would make every task fail the same way: an option
 * the sweep sets, and a model, corpus, manifest, tokenizer or keyword file that is not there. */
static int check_options(const char *cmd, const char *command, char **opts, int n) {
    if (n == 0) return cli_usage_error(cmd, "no %s options: give them after --, e.g. -- -m BASE -m VARIANT --corpus DIR", command);
    for (int i = 0; i < n; i++) {
        const char *own = owned_option(opts[i], command);
        if (own && (!strcmp(own, "-h") || !strncmp(own, "--h", 3)))
            return cli_usage_error(cmd, "'%s' among the %s options: see coldtok %s --help", own, command, command);
        if (own)
            return cli_usage_error(cmd, "'%s' among the %s options: the sweep sets -o and --shard itself, and a shard "
                                   "writes no --positions or --csv file", own, command);
        int tokenizer = 0;
        const char *path = path_value(opts, n, &i, &tokenizer);
        char *label = NULL;
        if (path && tokenizer) path = cli_labelled_path(path, &label); /* [NAME=]PATH */
        Err err;
        int bad = path && check_input_path(path, &err);
        free(label);
        if (bad) return cli_fail(cmd, "%s", err.msg);
    }
    return 0;
}

/* ---- writing and submitting ---- */

static int write_script(const char *cmd, const char *dir, const char *name, const Buf *text, const char *says) {
    char *path = xmalloc(strlen(dir) + strlen(name) + 2);
    sprintf(path, "%s/%s", dir, name);
    Err err;
    int rc = write_file_atomic(path, text->data, text->len, &err);
    if (rc == 0 && chmod(path, 0755)) rc = err_set(&err, "%s: cannot make it executable: %s", path, strerror(errno));
    if (rc == 0) printf("wrote %s (%s)\n", path, says);
    else cli_fail(cmd, "%s", err.msg);
    free(path);
    return rc ? 1 : 0;
}

/* Runs sh DIR/submit.sh and returns its exit status (1 when it could not run). */
static int run_submit(const char *cmd, const char *dir) {
    char *path = xmalloc(strlen(dir) + sizeof "/submit.sh");
    sprintf(path, "%s/submit.sh", dir);
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        execl("/bin/sh", "sh", path, (char *)NULL);
        _exit(127);
    }
    int status = 0, rc = 1;
    if (pid < 0) cli_fail(cmd, "cannot run %s: %s", path, strerror(errno));
    else if (waitpid(pid, &status, 0) < 0) cli_fail(cmd, "%s: %s", path, strerror(errno));
    else if (!WIFEXITED(status) || WEXITSTATUS(status))
        cli_fail(cmd, "%s failed (%s %d): the scripts are written; run it again once sbatch works", path,
                 WIFEXITED(status) ? "exit" : "signal", WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
    else rc = 0;
    free(path);
    return rc;
}

static long parse_count(const char *s, long max) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    return errno || end == s || *end || v < 1 || v > max ? -1 : v;
}

/* Each option's value goes into an #SBATCH line: one line, and nothing sbatch would split. */
static int check_directive(const char *cmd, const char *opt, const char *v) {
    if (!*v || strchr(v, '\n') || strchr(v, '\r')) return cli_usage_error(cmd, "--%s takes a value of one line", opt);
    return 0;
}

static int parse(int argc, char **argv, Sweep *s, const char *cmd) {
    static const struct option longopts[] = {
        {"shards", required_argument, 0, 'n'},      {"out", required_argument, 0, 'o'},
        {"submit", no_argument, 0, 'S'},            {"max-parallel", required_argument, 0, 'K'},
        {"partition", required_argument, 0, 'P'},   {"account", required_argument, 0, 'A'},
        {"time", required_argument, 0, 'T'},        {"mem", required_argument, 0, 'M'},
        {"cpus-per-task", required_argument, 0, 'c'}, {"sbatch", required_argument, 0, 'b'},
        {"positions", required_argument, 0, 'p'},   {"coldtok", required_argument, 0, 'x'},
        {"help", no_argument, 0, 'h'},              {0, 0, 0, 0}};
    int rc = 0, c, idx = -1;
    optind = 1;
    opterr = 0;
    /* '+': stop at the first operand, so that nothing after -- is taken for the sweep's own */
    while (rc == 0 && (c = getopt_long(argc, argv, "+:n:o:h", longopts, &idx)) != -1) {
        const char *name = idx >= 0 ? longopts[idx].name : "";
        switch (c) {
        case 'n':
            if ((s->shards = parse_count(optarg, 65535)) < 0) rc = cli_usage_error(cmd, "--shards takes a number from 1 to 65535");
            break;
        case 'K':
            if ((s->max_parallel = parse_count(optarg, 1000000)) < 0) rc = cli_usage_error(cmd, "--max-parallel takes a positive number");
            break;
        case 'o': s->out = optarg; break;
        case 'S': s->submit = 1; break;
        case 'P': s->partition = optarg; break;
        case 'A': s->account = optarg; break;
        case 'T': s->time = optarg; break;
        case 'M': s->mem = optarg; break;
        case 'c': s->cpus = optarg; break;
        case 'b': s->sbatch[s->nsbatch++] = optarg; break;
        case 'p': s->positions = optarg; break;
        case 'x': s->coldtok = optarg; break;
        case 'h': fputs(HELP, stdout); return -1;
        default: rc = cli_option_error(cmd, c, argv, longopts); break;
        }
        if (rc == 0 && strchr("PATMcb", c)) rc = check_directive(cmd, name, optarg);
        idx = -1;
    }
    if (rc == 0 && optind < argc && strcmp(argv[optind - 1], "--"))
        rc = cli_usage_error(cmd, "unexpected argument '%s' (the drift options go after --)", argv[optind]);
    if (rc == 0 && !s->shards) rc = cli_usage_error(cmd, "give --shards N, the number of array tasks");
    if (rc == 0 && !s->out) rc = cli_usage_error(cmd, "give -o DIR, the folder of the scripts, shards and results");
    return rc;
}

int cmd_sweep(int argc, char **argv) {
    const char *cmd = "sweep";
    Sweep s = {.sbatch = xcalloc((size_t)argc + 1, sizeof(char *))};
    int rc = parse(argc, argv, &s, cmd);
    char **drift = argv + optind;
    int ndrift = argc - optind;
    static const char *const commands[] = {"drift", "probe", "diff", "coverage"};
    s.command = "drift";
    for (size_t k = 0; k < 4 && ndrift > 0; k++)
        if (!strcmp(drift[0], commands[k])) s.command = commands[k], drift++, ndrift--;
    if (rc == 0) rc = check_options(cmd, s.command, drift, ndrift);
    if (rc == 0 && s.positions && strcmp(s.command, "drift"))
        rc = cli_usage_error(cmd, "--positions is drift's: a %s run has no positions file", s.command);
    if (rc == 0 && s.coldtok && !is_file(s.coldtok)) rc = cli_fail(cmd, "%s: no such file (--coldtok)", s.coldtok);
    if (rc == 0) rc = cli_make_dir(cmd, s.out);
    char *dir = NULL, *cwd = NULL, *exe = NULL;
    if (rc == 0) {
        dir = realpath(s.out, NULL), cwd = getcwd(NULL, 0);
        exe = realpath(s.coldtok ? s.coldtok : "/proc/self/exe", NULL);
        if (!dir || !cwd || !exe) rc = cli_fail(cmd, "cannot resolve %s: %s", !dir ? s.out : !cwd ? "the current folder" : "the coldtok binary", strerror(errno));
    }
    if (rc == 0 && !sbatch_safe(dir))
        rc = cli_fail(cmd, "%s: #SBATCH --output cannot hold a folder whose path has blanks, quotes, backslashes or %%", dir);
    if (rc == 0) {
        Buf logs = {0};
        buf_printf(&logs, "%s/logs", dir);
        rc = cli_make_dir(cmd, logs.data);
        buf_free(&logs);
    }
    if (rc == 0) {
        Buf a = {0}, m = {0}, sub = {0};
        char says[160], name[32];
        drift_script(&a, &s, dir, cwd, exe, drift, ndrift);
        merge_script(&m, &s, dir, cwd, exe);
        submit_script(&sub, &s, dir);
        snprintf(says, sizeof says, "a job array of %ld tasks: coldtok %s --shard I/%ld", s.shards, s.command, s.shards);
        snprintf(name, sizeof name, "%s.sbatch", s.command);
        rc = write_script(cmd, dir, name, &a, says);
        if (rc == 0) rc = write_script(cmd, dir, "merge.sbatch", &m, "coldtok merge of the shards into results/");
        if (rc == 0) rc = write_script(cmd, dir, "submit.sh", &sub, "the array, then the merge after it");
        buf_free(&a), buf_free(&m), buf_free(&sub);
    }
    if (rc == 0 && s.submit) rc = run_submit(cmd, dir);
    else if (rc == 0)
        printf("submit with:  sh %s/submit.sh\n"
               "or by hand:   sbatch --parsable %s/%s.sbatch   (prints the array's job id J)\n"
               "              sbatch --dependency=afterok:J %s/merge.sbatch\n",
               dir, dir, s.command, dir);
    free(dir), free(cwd), free(exe), free(s.sbatch);
    return rc < 0 ? 0 : rc;
}
