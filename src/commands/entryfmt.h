/*
 * Printing the members of list/tree entries: `-s STRUCT[.m1,m2]` (formatted
 * by the expression printer, with types) and `-S STRUCT.m1[,m2]` (raw values
 * read with one read per entry: fast). Shared by list and tree. Also the
 * OFFSET argument (bytes or STRUCT.MEMBER) both take.
 */
#ifndef KDX_ENTRYFMT_H
#define KDX_ENTRYFMT_H

#include <stdint.h>
#include <stdio.h>
#include "error.h"

struct kdx_session;
struct kdx_type;

#define KDX_ENTRY_MAX_MEMBERS 32

struct member_spec {
	const char *name;       /* as typed: "value", "name", "se.vruntime" */
	struct kdx_type *type;  /* member type */
	uint64_t offset;        /* byte offset of the member (bit fields: of the storage byte) */
	uint64_t bit_offset;    /* within the byte at OFFSET */
	uint32_t bit_size;
	uint64_t size;
	int fast_kind;          /* -S: 0 fallback, 1 signed, 2 unsigned, 3 pointer, 4 char array, 5 bool */
};

struct kdx_entry_fmt {
	struct kdx_session *s;
	FILE *out;
	struct kdx_type *stype;          /* -s/-S struct type, NULL: addresses only */
	struct member_spec m[KDX_ENTRY_MAX_MEMBERS];
	int nm;                          /* 0 with stype: the whole struct */
	char *spec;                      /* copy of the spec (member names point into it) */
	int raw;                         /* -S */
	unsigned fmt;                    /* KDX_FMT_HEX / _DEC */
	uint64_t span_lo, span_hi;       /* -S: bytes of an entry to read at once */
	unsigned char *buf;
	struct kdx_error *err;           /* first per-entry error (stops the walk) */
};

/* Parse SPEC ("task_struct", "task_struct.pid,comm"); RAW: -S. FMT:
 * KDX_FMT_HEX/DEC or 0. */
struct kdx_error *kdx_entry_fmt_init(struct kdx_session *s, struct kdx_entry_fmt *f,
				     const char *spec, int raw, unsigned fmt);
/* Print the struct or members of the entry at ENTRY (not its address). */
struct kdx_error *kdx_entry_fmt_print(struct kdx_entry_fmt *f, uint64_t entry);
void kdx_entry_fmt_release(struct kdx_entry_fmt *f);

/* OFFSET as bytes or STRUCT.MEMBER; STYPE and MTYPE (may be NULL) get the
 * struct and member types when named. */
struct kdx_error *kdx_offset_parse(struct kdx_session *s, const char *text, uint64_t *off,
				   struct kdx_type **stype, struct kdx_type **mtype);
/* Is T (typedefs stripped) struct NAME? */
int kdx_type_is_struct_named(struct kdx_type *t, const char *name);

/* ARGV[0..ARGC-1] joined by single blanks (malloc'd; NULL if out of memory):
 * an address argument that is an expression with blanks. */
char *kdx_join_words(int argc, char **argv);

#endif
