/*
 * DWARF types over libdw, built lazily from DIEs found through the name
 * index (dwindex.c).
 *
 * A kdx_type is made from its DIE the first time it is reached and cached by
 * DIE offset. Struct and union members are loaded by kdx_type_complete (or
 * kdx_type_unqualified, kdx_type_member, kdx_type_find, kdx_variable_find,
 * which complete what they return): a struct reached only through a pointer
 * stays a shell (name, size) until someone looks inside, so opening
 * task_struct does not drag in the whole kernel's type graph. Completing a
 * struct also completes the structs embedded in it by value (not those
 * behind pointers), so printing nested members needs no further calls.
 *
 * A struct DIE that is only a declaration (most CUs just say
 * `struct task_struct;`) is replaced by the index's definition of the same
 * name.
 *
 * Type-name parsing lives in typeparse.c, C spelling in typename.c, source
 * lines and inline frames in lines.c, frame variables in frame_vars.c.
 */
#include "symbols/types.h"
#include "symbols/types_internal.h"
#include "symbols/kernel_image.h"
#include "symbols/symtab_internal.h"
#include "session.h"

#include <ctype.h>
#include <dwarf.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* ---- small utilities: arena, hash map ---- */

#define ARENA_CHUNK (256 * 1024)

void *kdx_types_alloc(struct kdx_types *types, size_t size)
{
	size = (size + 15) & ~(size_t)15;
	if (size > types->arena_left) {
		size_t csize = size > ARENA_CHUNK ? size : ARENA_CHUNK;
		void **chunks = realloc(types->chunks, (types->nchunks + 1) * sizeof(*chunks));
		if (!chunks)
			return NULL;
		types->chunks = chunks;
		char *c = malloc(csize);
		if (!c)
			return NULL;
		types->chunks[types->nchunks++] = c;
		types->arena = c;
		types->arena_left = csize;
	}
	void *p = types->arena;
	types->arena += size;
	types->arena_left -= size;
	memset(p, 0, size);
	return p;
}

char *kdx_types_strdup(struct kdx_types *types, const char *s)
{
	size_t len = strlen(s) + 1;
	char *p = kdx_types_alloc(types, len);
	if (p)
		memcpy(p, s, len);
	return p;
}

static uint64_t mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	return x;
}

void *kdx_hashmap_get(struct kdx_hashmap *m, uint64_t key)
{
	if (!m->slots)
		return NULL;
	for (size_t h = mix64(key) & m->mask; m->slots[h].val; h = (h + 1) & m->mask)
		if (m->slots[h].key == key)
			return m->slots[h].val;
	return NULL;
}

int kdx_hashmap_put(struct kdx_hashmap *m, uint64_t key, void *val)
{
	if (!m->slots || (m->n + 1) * 2 > m->mask + 1) {
		size_t cap = m->slots ? (m->mask + 1) * 2 : 1024;
		struct cache_slot *slots = calloc(cap, sizeof(*slots));
		if (!slots)
			return -1;
		for (size_t i = 0; m->slots && i <= m->mask; i++) {
			if (!m->slots[i].val)
				continue;
			size_t h = mix64(m->slots[i].key) & (cap - 1);
			while (slots[h].val)
				h = (h + 1) & (cap - 1);
			slots[h] = m->slots[i];
		}
		free(m->slots);
		m->slots = slots;
		m->mask = cap - 1;
	}
	size_t h = mix64(key) & m->mask;
	for (; m->slots[h].val; h = (h + 1) & m->mask) {
		if (m->slots[h].key == key) {
			m->slots[h].val = val;
			return 0;
		}
	}
	m->slots[h].key = key;
	m->slots[h].val = val;
	m->n++;
	return 0;
}

void kdx_hashmap_free(struct kdx_hashmap *m)
{
	free(m->slots);
	memset(m, 0, sizeof(*m));
}

static uint64_t die_key(struct kdx_dwsrc *src, Dwarf_Off off)
{
	return ((uint64_t)src->id << 48) ^ off;
}

static struct ktype *K(struct kdx_type *t)
{
	return t->priv;
}

static struct ktype *ktype_new(struct kdx_types *types, struct kdx_dwsrc *src, Dwarf_Off off,
			       enum kdx_type_kind kind)
{
	struct ktype *k = kdx_types_alloc(types, sizeof(*k));
	if (!k)
		return NULL;
	k->t.kind = kind;
	k->t.priv = k;
	k->types = types;
	k->src = src;
	k->off = off;
	k->completed = 1;
	return k;
}

/* ---- building types from DIEs ---- */

static struct kdx_type *void_type(struct kdx_types *types)
{
	return &types->void_type;
}

static struct kdx_type *type_attr(struct kdx_types *types, struct kdx_dwsrc *src, Dwarf_Die *die)
{
	Dwarf_Attribute attr;
	Dwarf_Die tdie;
	if (!dwarf_attr_integrate(die, DW_AT_type, &attr))
		return void_type(types);
	if (!dwarf_formref_die(&attr, &tdie))
		return void_type(types);
	return kdx_types_from_die(types, src, &tdie);
}

uint64_t kdx_die_udata(Dwarf_Die *die, int name, uint64_t dflt)
{
	Dwarf_Attribute attr;
	Dwarf_Word w;
	if (!dwarf_attr_integrate(die, name, &attr) || dwarf_formudata(&attr, &w) != 0)
		return dflt;
	return w;
}

struct kdx_type *kdx_types_qualified(struct kdx_types *types, struct kdx_type *t, unsigned qual)
{
	if ((t->qualifiers & qual) == qual || !K(t))
		return t;
	struct ktype *base = K(t)->base ? K(t)->base : K(t);
	unsigned q = t->qualifiers | qual;
	uint64_t key = (uint64_t)(uintptr_t)base ^ q;
	struct kdx_type *c = kdx_hashmap_get(&types->quals, key);
	if (c)
		return c;
	struct ktype *k = kdx_types_alloc(types, sizeof(*k));
	if (!k)
		return t;
	*k = *base;
	k->t.priv = k;
	k->t.qualifiers = q;
	k->base = base;
	k->ptr = NULL;
	kdx_hashmap_put(&types->quals, key, &k->t);
	return &k->t;
}


/* A struct/union/enum declaration: look for its definition. */
static struct kdx_type *resolve_declaration(struct kdx_types *types, struct kdx_dwsrc *src,
					    int tag, const char *name)
{
	int kind = tag == DW_TAG_structure_type ? KDX_IDX_STRUCT :
		   tag == DW_TAG_union_type ? KDX_IDX_UNION : KDX_IDX_ENUM;
	struct kdx_dwsrc *where = NULL;
	const struct kdx_dwindex_entry *e = NULL;
	/* Same source first (a module's own struct), then vmlinux, modules. */
	if ((e = kdx_dwindex_find(&src->index, kind, name))) {
		where = src;
	} else {
		for (size_t i = 0; i < types->nsrcs && !e; i++) {
			e = kdx_dwindex_find(&types->srcs[i]->index, kind, name);
			where = types->srcs[i];
		}
	}
	if (!e)
		return NULL;
	Dwarf_Die die;
	if (!kdx_dwsrc_offdie(where, e->die, &die))
		return NULL;
	return kdx_types_from_die(types, where, &die);
}

static void build_function(struct kdx_types *types, struct kdx_dwsrc *src, struct ktype *k,
			   Dwarf_Die *die)
{
	Dwarf_Die child;
	size_t n = 0;
	k->t.target = type_attr(types, src, die);
	if (dwarf_child(die, &child) == 0) {
		do {
			if (dwarf_tag(&child) == DW_TAG_formal_parameter)
				n++;
			else if (dwarf_tag(&child) == DW_TAG_unspecified_parameters)
				k->t.variadic = 1;
		} while (dwarf_siblingof(&child, &child) == 0);
	}
	if (!n)
		return;
	k->t.params = kdx_types_alloc(types, n * sizeof(*k->t.params));
	if (!k->t.params)
		return;
	if (dwarf_child(die, &child) == 0) {
		do {
			if (dwarf_tag(&child) == DW_TAG_formal_parameter)
				k->t.params[k->t.nparams++] = type_attr(types, src, &child);
		} while (dwarf_siblingof(&child, &child) == 0 && k->t.nparams < n);
	}
}

static void build_array(struct kdx_types *types, struct kdx_dwsrc *src, struct ktype *k,
			Dwarf_Die *die)
{
	Dwarf_Die child;
	uint64_t dims[16];
	int known[16];
	int nd = 0;
	if (dwarf_child(die, &child) == 0) {
		do {
			int tag = dwarf_tag(&child);
			if (tag != DW_TAG_subrange_type && tag != DW_TAG_enumeration_type)
				continue;
			if (nd == 16)
				break;
			Dwarf_Attribute attr;
			Dwarf_Word w;
			known[nd] = 1;
			if (dwarf_attr(&child, DW_AT_count, &attr) && dwarf_formudata(&attr, &w) == 0)
				dims[nd] = w;
			else if (dwarf_attr(&child, DW_AT_upper_bound, &attr) && dwarf_formudata(&attr, &w) == 0)
				dims[nd] = w + 1 - kdx_die_udata(&child, DW_AT_lower_bound, 0);
			else {
				dims[nd] = 0;
				known[nd] = 0;
			}
			nd++;
		} while (dwarf_siblingof(&child, &child) == 0);
	}
	struct kdx_type *elem = type_attr(types, src, die);
	if (nd == 0) {
		dims[0] = 0;
		known[0] = 0;
		nd = 1;
	}
	/* int a[2][3]: array of 2 (array of 3 int); the outer one is K. */
	for (int i = nd - 1; i >= 1; i--) {
		struct ktype *a = ktype_new(types, NULL, 0, KDX_TYPE_ARRAY);
		if (!a)
			break;
		a->t.target = elem;
		a->t.nelem = dims[i];
		a->t.nelem_known = known[i];
		a->t.size = dims[i] * elem->size;
		elem = &a->t;
	}
	k->t.target = elem;
	k->t.nelem = dims[0];
	k->t.nelem_known = known[0];
	k->t.size = dims[0] * elem->size;
}

static void build_enum(struct kdx_types *types, struct kdx_dwsrc *src, struct ktype *k,
		       Dwarf_Die *die)
{
	Dwarf_Die child;
	size_t n = 0;
	if (dwarf_hasattr(die, DW_AT_type))
		k->t.target = type_attr(types, src, die);
	if (dwarf_child(die, &child) == 0) {
		do
			n += dwarf_tag(&child) == DW_TAG_enumerator;
		while (dwarf_siblingof(&child, &child) == 0);
	}
	if (k->t.target && k->t.target->kind == KDX_TYPE_INT)
		k->t.is_signed = k->t.target->is_signed;
	if (!n)
		return;
	k->t.enumerators = kdx_types_alloc(types, n * sizeof(*k->t.enumerators));
	if (!k->t.enumerators)
		return;
	int any_negative = 0;
	if (dwarf_child(die, &child) == 0) {
		do {
			if (dwarf_tag(&child) != DW_TAG_enumerator || k->t.nenumerators == n)
				continue;
			Dwarf_Attribute attr;
			Dwarf_Sword sv = 0;
			struct kdx_enumerator *en = &k->t.enumerators[k->t.nenumerators++];
			en->name = dwarf_diename(&child);
			dwarf_formsdata(dwarf_attr(&child, DW_AT_const_value, &attr), &sv);
			en->value = sv;
			any_negative |= sv < 0;
		} while (dwarf_siblingof(&child, &child) == 0);
	}
	if (!k->t.target)
		k->t.is_signed = any_negative;
}

struct kdx_type *kdx_types_from_die(struct kdx_types *types, struct kdx_dwsrc *src, Dwarf_Die *die)
{
	Dwarf_Off off = dwarf_dieoffset(die);
	uint64_t key = die_key(src, off);
	struct kdx_type *cached = kdx_hashmap_get(&types->by_die, key);
	if (cached)
		return cached;

	int tag = dwarf_tag(die);
	const char *name = dwarf_diename(die);
	struct kdx_type *t = NULL;
	struct ktype *k = NULL;

	switch (tag) {
	case DW_TAG_const_type:
	case DW_TAG_volatile_type: {
		struct kdx_type *target = type_attr(types, src, die);
		t = kdx_types_qualified(types, target, tag == DW_TAG_const_type ? KDX_QUAL_CONST : KDX_QUAL_VOLATILE);
		break;
	}
	case DW_TAG_restrict_type:
	case DW_TAG_atomic_type:
	case DW_TAG_immutable_type:
		t = type_attr(types, src, die);
		break;
	case DW_TAG_unspecified_type:
		t = void_type(types);
		break;
	case DW_TAG_structure_type:
	case DW_TAG_union_type:
	case DW_TAG_class_type:
	case DW_TAG_enumeration_type:
		if (dwarf_hasattr(die, DW_AT_declaration) && name) {
			t = resolve_declaration(types, src, tag, name);
			if (t)
				break;
		}
		k = ktype_new(types, src, off, tag == DW_TAG_union_type ? KDX_TYPE_UNION :
					       tag == DW_TAG_enumeration_type ? KDX_TYPE_ENUM :
					       KDX_TYPE_STRUCT);
		if (!k)
			return void_type(types);
		k->t.name = name;
		k->t.size = kdx_die_udata(die, DW_AT_byte_size, 0);
		k->t.incomplete = dwarf_hasattr(die, DW_AT_declaration);
		kdx_hashmap_put(&types->by_die, key, &k->t);
		if (tag == DW_TAG_enumeration_type)
			build_enum(types, src, k, die);
		else
			k->completed = k->t.incomplete;
		return &k->t;
	default:
		break;
	}
	if (t) {
		kdx_hashmap_put(&types->by_die, key, t);
		return t;
	}

	enum kdx_type_kind kind;
	switch (tag) {
	case DW_TAG_base_type: {
		uint64_t enc = kdx_die_udata(die, DW_AT_encoding, 0);
		kind = (enc == DW_ATE_float || enc == DW_ATE_complex_float) ? KDX_TYPE_FLOAT : KDX_TYPE_INT;
		break;
	}
	case DW_TAG_pointer_type:
	case DW_TAG_reference_type:
	case DW_TAG_rvalue_reference_type:
		kind = KDX_TYPE_POINTER;
		break;
	case DW_TAG_typedef:
		kind = KDX_TYPE_TYPEDEF;
		break;
	case DW_TAG_array_type:
		kind = KDX_TYPE_ARRAY;
		break;
	case DW_TAG_subroutine_type:
	case DW_TAG_subprogram:
		kind = KDX_TYPE_FUNCTION;
		break;
	default:
		/* Something exotic (ptr_to_member, string type): treat as void. */
		kdx_hashmap_put(&types->by_die, key, void_type(types));
		return void_type(types);
	}
	k = ktype_new(types, src, off, kind);
	if (!k)
		return void_type(types);
	/* Cache before recursing: a typedef'd function type can reach itself
	 * through its parameters only via a pointer to a struct, but be safe. */
	kdx_hashmap_put(&types->by_die, key, &k->t);
	switch (kind) {
	case KDX_TYPE_INT:
	case KDX_TYPE_FLOAT: {
		uint64_t enc = kdx_die_udata(die, DW_AT_encoding, 0);
		k->t.name = name;
		k->t.size = kdx_die_udata(die, DW_AT_byte_size, 0);
		k->t.is_signed = enc == DW_ATE_signed || enc == DW_ATE_signed_char || enc == DW_ATE_float;
		k->t.is_bool = enc == DW_ATE_boolean;
		k->t.is_char = enc == DW_ATE_signed_char || enc == DW_ATE_unsigned_char;
		break;
	}
	case KDX_TYPE_POINTER:
		k->t.size = kdx_die_udata(die, DW_AT_byte_size, 8);
		k->t.target = type_attr(types, src, die);
		break;
	case KDX_TYPE_TYPEDEF:
		k->t.name = name;
		k->t.target = type_attr(types, src, die);
		k->t.size = k->t.target->size;
		break;
	case KDX_TYPE_ARRAY:
		build_array(types, src, k, die);
		break;
	case KDX_TYPE_FUNCTION:
		if (tag == DW_TAG_subprogram) {
			/* out-of-line instances name their abstract origin */
			Dwarf_Attribute attr;
			k->t.name = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_name, &attr));
		}
		build_function(types, src, k, die);
		break;
	default:
		break;
	}
	return &k->t;
}

/* ---- completing structs ---- */

static struct kdx_type *strip_for_complete(struct kdx_type *t)
{
	while (t && (t->kind == KDX_TYPE_TYPEDEF || t->kind == KDX_TYPE_ARRAY))
		t = t->target;
	return t;
}

static uint64_t member_location(Dwarf_Die *die, int *ok)
{
	Dwarf_Attribute attr;
	Dwarf_Word w;
	*ok = 1;
	if (!dwarf_attr(die, DW_AT_data_member_location, &attr))
		return 0;
	if (dwarf_formudata(&attr, &w) == 0)
		return w;
	Dwarf_Op *ops;
	size_t nops;
	if (dwarf_getlocation(&attr, &ops, &nops) == 0 && nops == 1 &&
	    ops[0].atom == DW_OP_plus_uconst)
		return ops[0].number;
	*ok = 0;
	return 0;
}

static struct kdx_error *load_members(struct kdx_types *types, struct ktype *k)
{
	Dwarf_Die die, child;
	if (!kdx_dwsrc_offdie(k->src, k->off, &die))
		return kdx_error_create(KDX_ERR_FORMAT, "cannot read DWARF DIE at 0x%" PRIx64,
					(uint64_t)k->off);
	size_t n = 0;
	if (dwarf_child(&die, &child) == 0) {
		do
			n += dwarf_tag(&child) == DW_TAG_member;
		while (dwarf_siblingof(&child, &child) == 0);
	}
	struct kdx_member *members = n ? kdx_types_alloc(types, n * sizeof(*members)) : NULL;
	if (n && !members)
		return kdx_error_nomem();
	size_t i = 0;
	if (n && dwarf_child(&die, &child) == 0) {
		do {
			if (dwarf_tag(&child) != DW_TAG_member || i == n)
				continue;
			struct kdx_member *m = &members[i++];
			m->name = dwarf_diename(&child);
			m->type = type_attr(types, k->src, &child);
			m->bit_size = (uint32_t)kdx_die_udata(&child, DW_AT_bit_size, 0);
			int ok;
			uint64_t byte_off = member_location(&child, &ok);
			Dwarf_Attribute attr;
			Dwarf_Word w;
			if (dwarf_attr(&child, DW_AT_data_bit_offset, &attr) &&
			    dwarf_formudata(&attr, &w) == 0) {
				m->bit_offset = w;
			} else if (m->bit_size && dwarf_attr(&child, DW_AT_bit_offset, &attr) &&
				   dwarf_formudata(&attr, &w) == 0) {
				/* DWARF 2-4, counted from the MSB of the storage unit
				 * (little endian here). */
				uint64_t storage = kdx_die_udata(&child, DW_AT_byte_size, m->type->size);
				m->bit_offset = byte_off * 8 + storage * 8 - w - m->bit_size;
			} else {
				m->bit_offset = byte_off * 8;
			}
		} while (dwarf_siblingof(&child, &child) == 0);
	}
	k->t.members = members;
	k->t.nmembers = i;
	return NULL;
}

/*
 * A declaration-only struct reached before the module defining it was
 * loaded (`mod -s` after the first look): adopt the definition now. The
 * shell keeps its identity, so pointers already handed out see the members.
 */
static void define_late(struct kdx_types *types, struct ktype *k)
{
	struct ktype *base = k->base ? k->base : k;
	int tag = k->t.kind == KDX_TYPE_UNION ? DW_TAG_union_type :
		  k->t.kind == KDX_TYPE_ENUM ? DW_TAG_enumeration_type : DW_TAG_structure_type;
	struct kdx_type *def = resolve_declaration(types, base->src, tag, base->t.name);
	if (!def || def == &base->t || def->incomplete)
		return;
	struct kdx_error *err = kdx_type_complete(types, def);
	kdx_error_destroy(err);
	struct ktype *targets[2] = { base, k };
	for (int i = 0; i < (k == base ? 1 : 2); i++) {
		struct ktype *x = targets[i];
		x->t.size = def->size;
		x->t.members = def->members;
		x->t.nmembers = def->nmembers;
		x->t.enumerators = def->enumerators;
		x->t.nenumerators = def->nenumerators;
		x->t.target = def->target;
		x->t.is_signed = def->is_signed;
		x->t.incomplete = 0;
		x->completed = 1;
	}
}

struct kdx_error *kdx_type_complete(struct kdx_types *types, struct kdx_type *t)
{
	if (!t)
		return NULL;
	struct ktype *k = K(t);
	if (!k)
		return NULL;    /* a type made outside the table (tests, literals) */
	if (t->incomplete && t->name && k->src &&
	    (t->kind == KDX_TYPE_STRUCT || t->kind == KDX_TYPE_UNION || t->kind == KDX_TYPE_ENUM))
		define_late(types ? types : k->types, k);
	if (k->completed)
		return NULL;
	struct ktype *base = k->base ? k->base : k;
	if (!base->completed) {
		/* Mark first: embedded members cannot contain their container,
		 * but a corrupt DWARF could loop. */
		base->completed = 1;
		struct kdx_error *err = load_members(types ? types : base->types, base);
		if (err)
			return err;
		for (size_t i = 0; i < base->t.nmembers; i++) {
			struct kdx_type *mt = strip_for_complete(base->t.members[i].type);
			if (mt && (mt->kind == KDX_TYPE_STRUCT || mt->kind == KDX_TYPE_UNION)) {
				err = kdx_type_complete(types, mt);
				if (err)
					return err;
			}
		}
	}
	if (k != base) {
		k->t.members = base->t.members;
		k->t.nmembers = base->t.nmembers;
		k->completed = 1;
	}
	return NULL;
}

struct kdx_type *kdx_type_unqualified(struct kdx_type *t)
{
	while (t && t->kind == KDX_TYPE_TYPEDEF)
		t = t->target;
	if (!t || !K(t))
		return t;
	if (K(t)->base)
		t = &K(t)->base->t;
	/* Callers look at members next: make sure they are there. */
	struct kdx_error *err = kdx_type_complete(K(t)->types, t);
	kdx_error_destroy(err);
	return t;
}

/* ---- the table ---- */

static struct kdx_error *open_vmlinux_src(struct kdx_types *types, const char *vmlinux,
					  const char *cache_dir)
{
	struct kdx_dwsrc *src = calloc(1, sizeof(*src));
	if (!src)
		return kdx_error_nomem();
	src->fd = -1;
	types->srcs = calloc(1, sizeof(*types->srcs));
	if (!types->srcs) {
		free(src);
		return kdx_error_nomem();
	}
	types->srcs[0] = src;
	types->nsrcs = 1;
	src->id = 0;
	src->path = strdup(vmlinux);
	src->fd = open(vmlinux, O_RDONLY | O_CLOEXEC);
	if (src->fd < 0)
		return kdx_error_create(KDX_ERR_IO, "cannot open %s: %m", vmlinux);
	elf_version(EV_CURRENT);
	src->elf = elf_begin(src->fd, ELF_C_READ_MMAP, NULL);
	if (!src->elf || elf_kind(src->elf) != ELF_K_ELF)
		return kdx_error_create(KDX_ERR_FORMAT, "%s is not an ELF file", vmlinux);
	/* Lookups touch scattered pages of a 600 MB file: no fault-around,
	 * or every touched CU header maps 64 KiB and RSS balloons. */
	size_t rawsize;
	char *raw = elf_rawfile(src->elf, &rawsize);
	if (raw) {
		uintptr_t a = (uintptr_t)raw & ~(uintptr_t)4095;
		madvise((void *)a, rawsize + ((uintptr_t)raw - a), MADV_RANDOM);
	}
	src->dw = dwarf_begin_elf(src->elf, DWARF_C_READ, NULL);
	if (!src->dw)
		return kdx_error_create(KDX_ERR_FORMAT,
					"%s has no DWARF debug info: pass the vmlinux from the linux-image-<abi>-dbg package",
					vmlinux);
	kdx_dwsrc_walk_init(src);
	types->build_id_len = kdx_elf_build_id(src->elf, types->build_id, sizeof(types->build_id));

	Elf_Scn *scn = NULL;
	size_t shstrndx;
	if (elf_getshdrstrndx(src->elf, &shstrndx) == 0) {
		while ((scn = elf_nextscn(src->elf, scn))) {
			GElf_Shdr sh;
			if (!gelf_getshdr(scn, &sh))
				continue;
			const char *sn = elf_strptr(src->elf, shstrndx, sh.sh_name);
			if (sn && strcmp(sn, ".data..percpu") == 0) {
				types->percpu_start = sh.sh_addr;
				types->percpu_end = sh.sh_addr + sh.sh_size;
				types->have_percpu = 1;
			}
		}
	}
	struct kdx_error *err = kdx_dwindex_open(vmlinux, types->build_id, types->build_id_len,
						 cache_dir, &src->index);
	if (err)
		return err;
	types->index_seconds = src->index.build_seconds;
	types->index_from_cache = src->index.from_cache;
	return NULL;
}

struct kdx_error *kdx_types_open(const char *vmlinux, const char *cache_dir,
				 struct kdx_types **ret)
{
	struct kdx_types *types = calloc(1, sizeof(*types));
	if (!types)
		return kdx_error_nomem();
	types->void_k.t.kind = KDX_TYPE_VOID;
	types->void_k.t.name = "void";
	types->void_k.t.priv = &types->void_k;
	types->void_k.types = types;
	types->void_k.completed = 1;
	types->void_type = types->void_k.t;
	types->void_type.priv = &types->void_k;
	struct kdx_error *err = open_vmlinux_src(types, vmlinux, cache_dir);
	if (err) {
		kdx_types_destroy(types);
		return err;
	}
	*ret = types;
	return NULL;
}

void kdx_dwsrc_free(struct kdx_dwsrc *src)
{
	if (!src)
		return;
	kdx_dwindex_release(&src->index);
	free(src->aranges);
	if (src->dw)
		dwarf_end(src->dw);
	if (src->elf)
		elf_end(src->elf);
	if (src->fd >= 0)
		close(src->fd);
	free(src->image);
	free(src->module);
	free(src->path);
	free(src);
}

void kdx_types_destroy(struct kdx_types *types)
{
	if (!types)
		return;
	for (size_t i = 0; i < types->nsrcs; i++)
		kdx_dwsrc_free(types->srcs[i]);
	free(types->srcs);
	kdx_hashmap_free(&types->by_die);
	kdx_hashmap_free(&types->quals);
	/* by_name and offsets values live in the arena */
	kdx_hashmap_free(&types->by_name);
	kdx_hashmap_free(&types->offsets);
	if (types->frame_cache_free)
		types->frame_cache_free(types->frame_cache);
	for (size_t i = 0; i < types->nchunks; i++)
		free(types->chunks[i]);
	free(types->chunks);
	free(types);
}

struct kdx_error *kdx_types_add_src(struct kdx_types *types, struct kdx_dwsrc *src)
{
	struct kdx_dwsrc **srcs = realloc(types->srcs, (types->nsrcs + 1) * sizeof(*srcs));
	if (!srcs)
		return kdx_error_nomem();
	types->srcs = srcs;
	src->id = (int)types->nsrcs;
	types->srcs[types->nsrcs++] = src;
	return NULL;
}

/* Look NAME of KIND up in every source; vmlinux first. */
struct kdx_type *kdx_types_find_indexed(struct kdx_types *types, int kind, const char *name,
					const struct kdx_dwindex_entry **entry, struct kdx_dwsrc **where)
{
	/* "module:name" searches that module only ("vmlinux:name": vmlinux). */
	const char *colon = strchr(name, ':');
	struct kdx_dwsrc *only = NULL;
	if (colon && colon != name && colon[1] && colon[1] != ':') {
		size_t ml = colon - name;
		for (size_t i = 0; i < types->nsrcs; i++) {
			const char *m = types->srcs[i]->module ? types->srcs[i]->module : "vmlinux";
			if (strlen(m) == ml && !memcmp(m, name, ml))
				only = types->srcs[i];
		}
		if (!only)
			return NULL;
		name = colon + 1;
	}
	for (size_t i = 0; i < types->nsrcs; i++) {
		struct kdx_dwsrc *src = types->srcs[i];
		if (only && src != only)
			continue;
		const struct kdx_dwindex_entry *e = kdx_dwindex_find(&src->index, kind, name);
		if (!e)
			continue;
		Dwarf_Die die;
		if (!kdx_dwsrc_offdie(src, e->die, &die))
			continue;
		/* The index is a cache: make sure it points at NAME (a
		 * damaged or stale file must not produce a wrong type). */
		if (kind != KDX_IDX_ENUMERATOR) {
			Dwarf_Attribute attr;
			const char *dn = dwarf_formstring(dwarf_attr_integrate(&die, DW_AT_name, &attr));
			if (!dn || strcmp(dn, name) != 0)
				continue;
		}
		if (entry)
			*entry = e;
		if (where)
			*where = src;
		if (kind == KDX_IDX_VARIABLE || kind == KDX_IDX_FUNCTION) {
			if (kind == KDX_IDX_FUNCTION)
				return kdx_types_from_die(types, src, &die);
			return type_attr(types, src, &die);
		}
		if (kind == KDX_IDX_ENUMERATOR)
			return kdx_types_from_die(types, src, &die);
		return kdx_types_from_die(types, src, &die);
	}
	return NULL;
}

/* ---- derived and synthesized types ---- */

struct kdx_type *kdx_types_new_type(struct kdx_types *types, enum kdx_type_kind kind)
{
	struct ktype *k = ktype_new(types, NULL, 0, kind);
	return k ? &k->t : NULL;
}

/* Build an int type that is not in the DWARF (e.g. "unsigned long" when
 * only "long unsigned int" exists is found; this is for types the kernel
 * never used, like "signed char" in some configs). */
struct kdx_type *kdx_types_synth_int(struct kdx_types *types, const char *name)
{
	static const struct { const char *name; uint64_t size; int is_signed; } ints[] = {
		{ "char", 1, 1 }, { "signed char", 1, 1 }, { "unsigned char", 1, 0 },
		{ "short int", 2, 1 }, { "short unsigned int", 2, 0 },
		{ "int", 4, 1 }, { "unsigned int", 4, 0 },
		{ "long int", 8, 1 }, { "long unsigned int", 8, 0 },
		{ "long long int", 8, 1 }, { "long long unsigned int", 8, 0 },
		{ "_Bool", 1, 0 },
	};
	for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
		if (strcmp(ints[i].name, name) != 0)
			continue;
		struct ktype *k = ktype_new(types, NULL, 0, KDX_TYPE_INT);
		if (!k)
			return NULL;
		k->t.name = ints[i].name;
		k->t.size = ints[i].size;
		k->t.is_signed = ints[i].is_signed;
		k->t.is_char = ints[i].size == 1 && strcmp(name, "_Bool") != 0;
		k->t.is_bool = !strcmp(name, "_Bool");
		return &k->t;
	}
	return NULL;
}

struct kdx_type *kdx_type_pointer_to(struct kdx_types *types, struct kdx_type *t)
{
	struct ktype *k = K(t);
	if (k && k->ptr)
		return k->ptr;
	struct ktype *p = ktype_new(types, NULL, 0, KDX_TYPE_POINTER);
	if (!p)
		return NULL;
	p->t.size = 8;
	p->t.target = t;
	if (k)
		k->ptr = &p->t;
	return &p->t;
}

struct kdx_type *kdx_type_array_of(struct kdx_types *types, struct kdx_type *t, uint64_t n,
				   int known)
{
	struct ktype *a = ktype_new(types, NULL, 0, KDX_TYPE_ARRAY);
	if (!a)
		return NULL;
	a->t.target = t;
	a->t.nelem = n;
	a->t.nelem_known = known;
	a->t.size = n * t->size;
	return &a->t;
}

struct kdx_type *kdx_type_void(struct kdx_types *types)
{
	return void_type(types);
}

struct name_cache {
	struct name_cache *next;
	const char *name;
	struct kdx_type *type;
};

struct kdx_error *kdx_type_find(struct kdx_types *types, const char *name, struct kdx_type **ret)
{
	uint64_t h = kdx_str_hash_u64(name);
	struct name_cache *c = kdx_hashmap_get(&types->by_name, h);
	for (; c; c = c->next) {
		if (!strcmp(c->name, name)) {
			*ret = c->type;
			return NULL;
		}
	}
	struct kdx_type *t;
	struct kdx_error *err = kdx_types_parse_name(types, name, &t);
	if (err)
		return err;
	err = kdx_type_complete(types, strip_for_complete(t));
	if (err)
		return err;
	c = kdx_types_alloc(types, sizeof(*c));
	if (c) {
		c->name = kdx_types_strdup(types, name);
		c->type = t;
		c->next = kdx_hashmap_get(&types->by_name, h);
		if (c->name)
			kdx_hashmap_put(&types->by_name, h, c);
	}
	*ret = t;
	return NULL;
}

struct kdx_error *kdx_variable_find(struct kdx_types *types, const char *name,
				    struct kdx_type **type, uint64_t *dwarf_addr)
{
	const struct kdx_dwindex_entry *e;
	struct kdx_type *t = kdx_types_find_indexed(types, KDX_IDX_VARIABLE, name, &e, NULL);
	if (!t)
		t = kdx_types_find_indexed(types, KDX_IDX_FUNCTION, name, &e, NULL);
	if (!t)
		return kdx_error_create(KDX_ERR_NOT_FOUND, "no variable \"%s\" in the debug info", name);
	kdx_error_destroy(kdx_type_complete(types, strip_for_complete(t)));
	if (type)
		*type = t;
	if (dwarf_addr)
		*dwarf_addr = e->addr;
	return NULL;
}

int kdx_types_addr_is_percpu(struct kdx_types *types, uint64_t dwarf_addr)
{
	return types->have_percpu && dwarf_addr >= types->percpu_start &&
	       dwarf_addr < types->percpu_end;
}

struct kdx_error *kdx_variable_find_ex(struct kdx_types *types, const char *name,
				       struct kdx_type **type, uint64_t *dwarf_addr,
				       int *is_percpu, int *is_function, const char **module)
{
	const struct kdx_dwindex_entry *e;
	struct kdx_dwsrc *src;
	int fn = 0;
	struct kdx_type *t = kdx_types_find_indexed(types, KDX_IDX_VARIABLE, name, &e, &src);
	if (!t) {
		t = kdx_types_find_indexed(types, KDX_IDX_FUNCTION, name, &e, &src);
		fn = 1;
	}
	if (!t)
		return kdx_error_create(KDX_ERR_NOT_FOUND, "no variable \"%s\" in the debug info", name);
	kdx_error_destroy(kdx_type_complete(types, strip_for_complete(t)));
	if (type)
		*type = t;
	if (dwarf_addr)
		*dwarf_addr = e->addr;
	if (is_percpu)
		*is_percpu = !fn && src->id == 0 && kdx_types_addr_is_percpu(types, e->addr);
	if (is_function)
		*is_function = fn;
	if (module)
		*module = src->module;
	return NULL;
}

struct kdx_error *kdx_function_range(struct kdx_types *types, const char *name, uint64_t *lo,
				     uint64_t *hi, const char **module)
{
	const struct kdx_dwindex_entry *e;
	struct kdx_dwsrc *src;
	if (!kdx_types_find_indexed(types, KDX_IDX_FUNCTION, name, &e, &src))
		return kdx_error_create(KDX_ERR_NOT_FOUND, "no function \"%s\" in the debug info", name);
	if (lo)
		*lo = e->addr;
	if (hi)
		*hi = e->addr2;
	if (module)
		*module = src->module;
	return NULL;
}

struct kdx_error *kdx_variable_lookup(struct kdx_session *s, const char *name,
				      struct kdx_type **type, uint64_t *addr, unsigned *flags)
{
	if (!s->types)
		return kdx_error_create(KDX_ERR_UNSUPPORTED, "no debug info loaded");
	int percpu, fn;
	const char *module;
	uint64_t a;
	struct kdx_error *err = kdx_variable_find_ex(s->types, name, type, &a, &percpu, &fn, &module);
	if (err)
		return err;
	unsigned f = 0;
	if (percpu)
		f |= KDX_VAR_PERCPU;
	if (fn)
		f |= KDX_VAR_FUNCTION;
	if (module)
		f |= KDX_VAR_MODULE;
	/* vmlinux addresses move with KASLR, except per-cpu offsets; module
	 * debuginfo is relocated already. */
	if (!module && !percpu)
		a += s->kaslr_offset;
	if (addr)
		*addr = a;
	if (flags)
		*flags = f;
	return NULL;
}

struct kdx_error *kdx_enumerator_find(struct kdx_types *types, const char *name,
				      struct kdx_type **type, int64_t *value)
{
	const struct kdx_dwindex_entry *e;
	struct kdx_type *t = kdx_types_find_indexed(types, KDX_IDX_ENUMERATOR, name, &e, NULL);
	if (!t)
		return kdx_error_create(KDX_ERR_NOT_FOUND, "no enumerator \"%s\" in the debug info", name);
	if (type)
		*type = t;
	if (value)
		*value = (int64_t)e->addr;
	return NULL;
}

/* ---- members ---- */

/* Find member NAME in struct/union T (descending into anonymous members). */
static int find_member(struct kdx_types *types, struct kdx_type *t, const char *name, size_t len,
		       struct kdx_member **ret, uint64_t *bit_offset)
{
	t = kdx_type_unqualified(t);
	if (!t || (t->kind != KDX_TYPE_STRUCT && t->kind != KDX_TYPE_UNION))
		return 0;
	kdx_error_destroy(kdx_type_complete(types, t));
	for (size_t i = 0; i < t->nmembers; i++) {
		struct kdx_member *m = &t->members[i];
		if (m->name) {
			if (strlen(m->name) == len && !memcmp(m->name, name, len)) {
				*ret = m;
				*bit_offset = m->bit_offset;
				return 1;
			}
			continue;
		}
		uint64_t inner;
		if (find_member(types, m->type, name, len, ret, &inner)) {
			*bit_offset = m->bit_offset + inner;
			return 1;
		}
	}
	return 0;
}

struct kdx_error *kdx_type_member(struct kdx_types *types, struct kdx_type *t, const char *path,
				  struct kdx_type **mtype, uint64_t *bit_offset, uint32_t *bit_size)
{
	uint64_t off = 0;
	uint32_t bsize = 0;
	const char *p = path;
	struct kdx_type *cur = t;

	while (*p) {
		if (*p == '.') {
			p++;
			continue;
		}
		if (*p == '[') {
			char *end;
			long long idx = strtoll(p + 1, &end, 0);
			if (*end != ']')
				return kdx_error_create(KDX_ERR_SYNTAX, "bad index in \"%s\"", path);
			struct kdx_type *u = kdx_type_unqualified(cur);
			if (!u || u->kind != KDX_TYPE_ARRAY)
				return kdx_error_create(KDX_ERR_INVALID, "\"%.*s\" is not an array",
							(int)(p - path), path);
			off += (uint64_t)idx * u->target->size * 8;
			cur = u->target;
			bsize = 0;
			p = end + 1;
			continue;
		}
		size_t len = strcspn(p, ".[");
		struct kdx_member *m;
		uint64_t moff;
		if (!find_member(types, cur, p, len, &m, &moff)) {
			struct kdx_type *u = kdx_type_unqualified(cur);
			char *tn = kdx_type_to_string(cur, NULL);
			struct kdx_error *err;
			if (!u || (u->kind != KDX_TYPE_STRUCT && u->kind != KDX_TYPE_UNION))
				err = kdx_error_create(KDX_ERR_INVALID, "%s is not a struct or union (looking for member \"%.*s\")",
						       tn ? tn : "type", (int)len, p);
			else
				err = kdx_error_create(KDX_ERR_NOT_FOUND, "%s has no member \"%.*s\"",
						       tn ? tn : "type", (int)len, p);
			free(tn);
			return err;
		}
		off += moff;
		bsize = m->bit_size;
		cur = m->type;
		p += len;
	}
	if (mtype)
		*mtype = cur;
	if (bit_offset)
		*bit_offset = off;
	if (bit_size)
		*bit_size = bsize;
	return NULL;
}

/* Cached lookups for walkers: key = hash of "struct\0member". */
struct offset_cache {
	struct offset_cache *next;
	char *key;          /* "S\0M" flattened as "S.M" with a 0 separator char */
	uint64_t value;
};

static struct kdx_error *cached_value(struct kdx_types *types, const char *a, const char *b,
				      uint64_t *value, int *found)
{
	char key[512];
	int n = snprintf(key, sizeof(key), "%s\x01%s", a, b ? b : "");
	*found = 0;
	if (n < 0 || (size_t)n >= sizeof(key))
		return NULL;
	uint64_t h = kdx_str_hash_u64(key);
	for (struct offset_cache *c = kdx_hashmap_get(&types->offsets, h); c; c = c->next) {
		if (!strcmp(c->key, key)) {
			*value = c->value;
			*found = 1;
			return NULL;
		}
	}
	return NULL;
}

static void cache_value(struct kdx_types *types, const char *a, const char *b, uint64_t value)
{
	char key[512];
	int n = snprintf(key, sizeof(key), "%s\x01%s", a, b ? b : "");
	if (n < 0 || (size_t)n >= sizeof(key))
		return;
	uint64_t h = kdx_str_hash_u64(key);
	struct offset_cache *c = kdx_types_alloc(types, sizeof(*c));
	if (!c)
		return;
	c->key = kdx_types_strdup(types, key);
	if (!c->key)
		return;
	c->value = value;
	c->next = kdx_hashmap_get(&types->offsets, h);
	kdx_hashmap_put(&types->offsets, h, c);
}

struct kdx_error *kdx_struct_member_offset(struct kdx_types *types, const char *struct_name,
					   const char *member, uint64_t *offset)
{
	int found;
	cached_value(types, struct_name, member, offset, &found);
	if (found)
		return NULL;
	struct kdx_type *t;
	struct kdx_error *err;
	if (!strchr(struct_name, ' ')) {
		char buf[256];
		snprintf(buf, sizeof(buf), "struct %s", struct_name);
		err = kdx_type_find(types, buf, &t);
		if (err) {
			kdx_error_destroy(err);
			err = kdx_type_find(types, struct_name, &t);
		}
	} else {
		err = kdx_type_find(types, struct_name, &t);
	}
	if (err)
		return err;
	uint64_t bits;
	err = kdx_type_member(types, t, member, NULL, &bits, NULL);
	if (err)
		return err;
	*offset = bits / 8;
	cache_value(types, struct_name, member, *offset);
	return NULL;
}

struct kdx_error *kdx_member_offset(struct kdx_session *s, const char *struct_name,
				    const char *member, uint64_t *offset)
{
	if (!s->types)
		return kdx_error_create(KDX_ERR_UNSUPPORTED, "no debug info loaded");
	return kdx_struct_member_offset(s->types, struct_name, member, offset);
}

struct kdx_error *kdx_types_sizeof(struct kdx_types *types, const char *type_name, uint64_t *size)
{
	int found;
	cached_value(types, type_name, NULL, size, &found);
	if (found)
		return NULL;
	struct kdx_type *t;
	struct kdx_error *err = kdx_type_find(types, type_name, &t);
	if (err)
		return err;
	struct kdx_type *u = kdx_type_unqualified(t);
	if (u->incomplete)
		return kdx_error_create(KDX_ERR_INVALID, "%s is incomplete (declared, never defined)",
					type_name);
	*size = u->size;
	cache_value(types, type_name, NULL, *size);
	return NULL;
}

struct kdx_error *kdx_type_sizeof(struct kdx_session *s, const char *type_name, uint64_t *size)
{
	if (!s->types)
		return kdx_error_create(KDX_ERR_UNSUPPORTED, "no debug info loaded");
	return kdx_types_sizeof(s->types, type_name, size);
}

/* ---- names for completion ---- */

int kdx_types_for_each_name(struct kdx_types *types, int (*fn)(const char *name, void *arg), void *arg)
{
	for (size_t i = 0; i < types->nsrcs; i++) {
		const struct kdx_dwindex *idx = &types->srcs[i]->index;
		for (size_t j = 0; j < idx->n; j++) {
			const struct kdx_dwindex_entry *e = &idx->entries[j];
			if (e->kind == KDX_IDX_ENUMERATOR)
				continue;
			int r = fn(idx->strings + e->name, arg);
			if (r)
				return r;
		}
	}
	return 0;
}

void kdx_types_index_stats(struct kdx_types *types, int *from_cache, double *build_seconds,
			   size_t *nentries)
{
	if (from_cache)
		*from_cache = types->index_from_cache;
	if (build_seconds)
		*build_seconds = types->index_seconds;
	if (nentries)
		*nentries = types->srcs[0]->index.n;
}
