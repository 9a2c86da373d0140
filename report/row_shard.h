/* row_shard: shards of the commands whose CSV rows belong to one unit each — probe and diff (a
 * unit is a model), coverage (a tokenizer) — and their exact merge (docs/scale.md).
 *
 * Unit u of a run's list (in the run's order) belongs to shard u mod N + 1. A shard runs its own
 * units (diff: and the bases they are compared with), writes the command's usual CSV files into
 * its -o folder, then DIR/rows.shard, a text file written last (through a temporary):
 *
 *   coldtok-rows-shard 1          the magic and version
 *   command diff
 *   shard I N
 *   setting LINE ...              the options and the units' descriptions: the same in every shard
 *   unit NAME ...                 every unit of the run, in its order
 *   own NAME ...                  this shard's units
 *   input PATH<TAB>SHA256 ...     every file this shard read (models, tokenizers, keyword lists)
 *   file NAME<TAB>BYTES<TAB>SHA256 ...   the CSV files, as written
 *   end
 *
 * Every CSV file's rows are unit-major (all rows of unit 0, then of unit 1, ...), with the unit's
 * name in the first column, so the merge takes, per file, the header and, unit by unit in the
 * run's order, the rows of that unit from the shard that owns it: the unsharded run's bytes. It
 * refuses, with one line and before writing anything, shards of different runs (command, shard
 * count, settings, units, a file read by two shards with two digests), a missing or repeated
 * shard, a rows.shard cut short (no end line), a CSV file changed after its shard was written.
 *
 * Errors: -1 with one line in *err. */
#ifndef COLDTOK_ROW_SHARD_H
#define COLDTOK_ROW_SHARD_H

#include <stddef.h>

#include "common/util.h"
#include "report/run_record.h"

#define ROW_SHARD_FILE "rows.shard"

/* 1 when unit U (0-based, in the run's order) belongs to shard SHARD (0-based) of NSHARDS. */
int rowshard_owns(size_t unit, int shard, int nshards);

typedef struct {
    const char *command;        /* probe, diff or coverage */
    int shard, nshards;         /* 0-based shard, shard count */
    const char *settings;       /* "key value" lines, the same in every shard of the run */
    const char *const *units;   /* [nunits] every unit's name, in the run's order */
    size_t nunits;
    const char *const *inputs;  /* [ninputs] files this shard read, hashed through REC */
    size_t ninputs;
    const char *const *files;   /* [nfiles] the CSV files in DIR */
    size_t nfiles;
} RowShard;

/* Writes DIR/rows.shard for the CSV files already in DIR. */
int rowshard_write(const char *dir, const RowShard *s, RunRecord *rec, Err *err);

/* Merges the N shards (paths of their rows.shard files) into OUTDIR's CSV files (made only when
 * every check has passed). *command is set to the shards' command (static text); the names of
 * the files written are appended to *written, one a line. */
int rowshard_merge(const char *const *paths, int n, const char *outdir, const char **command, Buf *written,
                   Err *err);

#endif
