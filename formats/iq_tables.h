/* iq_tables: the grids and sign patterns of ggml's grid-based i-quants (IQ2_XXS, IQ2_XS, IQ2_S,
 * IQ3_XXS, IQ3_S, IQ1_S, IQ1_M), facts of the formats that formats/iquants.c decodes with.
 *
 * iq_tables.c is generated from the llama.cpp oracle by tests/oracle/make_iq_tables.py (see its
 * comment and docs/formats.md); never edit it by hand. Constant data, no state.
 *
 * Grid entries pack their values as bytes, value j in bits 8j..8j+7 (read with shifts, so the
 * host's byte order does not matter): 8 unsigned values per uint64_t entry for the IQ2 grids,
 * 4 per uint32_t entry for the IQ3 grids. IQ1's grid holds values -1, 0, 1 as 2-bit codes:
 * value j of entry i is ((iq1s_grid[i] >> 2j) & 3) - 1. iq_ksigns[k] gives the signs that a 7-bit
 * sign index k selects: bit j set = value j of the group is negated. */
#ifndef COLDTOK_IQ_TABLES_H
#define COLDTOK_IQ_TABLES_H

#include <stdint.h>

extern const uint64_t iq2xxs_grid[256];
extern const uint64_t iq2xs_grid[512];
extern const uint64_t iq2s_grid[1024];
extern const uint32_t iq3xxs_grid[256];
extern const uint32_t iq3s_grid[512];
extern const uint16_t iq1s_grid[2048];
extern const uint8_t iq_ksigns[128];
/* The shift added to (IQ1_S) or subtracted from (delta bit set) every IQ1 grid value. */
extern const float iq1s_delta;
extern const float iq1m_delta;

#endif
