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

static uint64_t attr_udata(Dwarf_Die *die, int name, uint64_t dflt)
{
	Dwarf_Attribute attr;
	Dwarf_Word w;
	if (!dwarf_attr_integrate(die, name, &attr) || dwarf_formudata(&attr, &w) != 0)
		return dflt;
	return w;
}

static struct kdx_type *qualified(struct kdx_types *types, struct kdx_type *t, unsigned qual)
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
	if (!dwarf_offdie(where->dw, e->die, &die))
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
				dims[nd] = w + 1 - attr_udata(&child, DW_AT_lower_bound, 0);
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
		t = qualified(types, target, tag == DW_TAG_const_type ? KDX_QUAL_CONST : KDX_QUAL_VOLATILE);
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
		k->t.size = attr_udata(die, DW_AT_byte_size, 0);
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
		uint64_t enc = attr_udata(die, DW_AT_encoding, 0);
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
		uint64_t enc = attr_udata(die, DW_AT_encoding, 0);
		k->t.name = name;
		k->t.size = attr_udata(die, DW_AT_byte_size, 0);
		k->t.is_signed = enc == DW_ATE_signed || enc == DW_ATE_signed_char || enc == DW_ATE_float;
		k->t.is_bool = enc == DW_ATE_boolean;
		k->t.is_char = enc == DW_ATE_signed_char || enc == DW_ATE_unsigned_char;
		break;
	}
	case KDX_TYPE_POINTER:
		k->t.size = attr_udata(die, DW_AT_byte_size, 8);
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
	if (!dwarf_offdie(k->src->dw, k->off, &die))
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
			m->bit_size = (uint32_t)attr_udata(&child, DW_AT_bit_size, 0);
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
				uint64_t storage = attr_udata(&child, DW_AT_byte_size, m->type->size);
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
static struct kdx_type *find_indexed(struct kdx_types *types, int kind, const char *name,
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
		if (!dwarf_offdie(src->dw, e->die, &die))
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

/* ---- type names ---- */

/* Canonical GCC spelling of a C integer type from its keywords, or NULL. */
static const char *canonical_base(const char *const *words, int n)
{
	int is_unsigned = 0, is_signed = 0, shorts = 0, longs = 0, ints = 0, chars = 0;
	int other = 0;
	const char *single = NULL;
	for (int i = 0; i < n; i++) {
		const char *w = words[i];
		if (!strcmp(w, "unsigned")) is_unsigned++;
		else if (!strcmp(w, "signed")) is_signed++;
		else if (!strcmp(w, "short")) shorts++;
		else if (!strcmp(w, "long")) longs++;
		else if (!strcmp(w, "int")) ints++;
		else if (!strcmp(w, "char")) chars++;
		else if (!strcmp(w, "double") || !strcmp(w, "float") || !strcmp(w, "_Bool") ||
			 !strcmp(w, "__int128") || !strcmp(w, "void")) {
			single = w;
			other++;
		} else
			return NULL;
	}
	if (other) {
		if (!strcmp(single, "double") && longs == 1 && other == 1 && n == 2)
			return "long double";
		if (!strcmp(single, "__int128") && other == 1)
			return is_unsigned ? "__int128 unsigned" : "__int128";
		return n == 1 ? single : NULL;
	}
	if (chars)
		return is_unsigned ? "unsigned char" : is_signed ? "signed char" : "char";
	if (shorts)
		return is_unsigned ? "short unsigned int" : "short int";
	if (longs >= 2)
		return is_unsigned ? "long long unsigned int" : "long long int";
	if (longs == 1)
		return is_unsigned ? "long unsigned int" : "long int";
	if (is_unsigned || is_signed || ints)
		return is_unsigned ? "unsigned int" : "int";
	return NULL;
}

/* Build an int type that is not in the DWARF (e.g. "unsigned long" when
 * only "long unsigned int" exists is found; this is for types the kernel
 * never used, like "signed char" in some configs). */
static struct kdx_type *synth_int(struct kdx_types *types, const char *name)
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

/* The base part of a type name: "struct foo", "unsigned long", "u64". */
static struct kdx_error *find_base(struct kdx_types *types, const char *base, struct kdx_type **ret)
{
	const char *words[8];
	char buf[256];
	int n = 0;
	if (strlen(base) >= sizeof(buf))
		return kdx_error_create(KDX_ERR_NOT_FOUND, "no type \"%s\"", base);
	strcpy(buf, base);
	for (char *p = strtok(buf, " \t"); p && n < 8; p = strtok(NULL, " \t"))
		words[n++] = p;
	if (!n)
		return kdx_error_create(KDX_ERR_SYNTAX, "empty type name");

	struct kdx_type *t = NULL;
	int kind = 0;
	if (n == 2 && !strcmp(words[0], "struct"))
		kind = KDX_IDX_STRUCT;
	else if (n == 2 && !strcmp(words[0], "union"))
		kind = KDX_IDX_UNION;
	else if (n == 2 && !strcmp(words[0], "enum"))
		kind = KDX_IDX_ENUM;
	if (kind) {
		t = find_indexed(types, kind, words[1], NULL, NULL);
		if (!t)
			return kdx_error_create(KDX_ERR_NOT_FOUND, "no %s \"%s\" in the debug info",
						words[0], words[1]);
		*ret = t;
		return NULL;
	}
	if (n == 1 && !strcmp(words[0], "void")) {
		*ret = void_type(types);
		return NULL;
	}
	const char *canon = canonical_base(words, n);
	if (canon) {
		t = find_indexed(types, KDX_IDX_BASE, canon, NULL, NULL);
		if (!t)
			t = synth_int(types, canon);
		if (t) {
			*ret = t;
			return NULL;
		}
	}
	if (n == 1) {
		/* A typedef, a base type spelled as in DWARF, or a bare tag
		 * ("task_struct", as crash accepts). */
		static const int order[] = { KDX_IDX_TYPEDEF, KDX_IDX_BASE, KDX_IDX_STRUCT,
					     KDX_IDX_UNION, KDX_IDX_ENUM };
		for (size_t i = 0; i < 5 && !t; i++)
			t = find_indexed(types, order[i], words[0], NULL, NULL);
	} else {
		t = find_indexed(types, KDX_IDX_BASE, base, NULL, NULL);
	}
	if (!t)
		return kdx_error_create(KDX_ERR_NOT_FOUND, "no type \"%s\" in the debug info", base);
	*ret = t;
	return NULL;
}

static char *trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	size_t len = strlen(s);
	while (len && isspace((unsigned char)s[len - 1]))
		s[--len] = 0;
	return s;
}

/* Remove the words "const" and "volatile" from S in place; returns the
 * qualifiers found. */
static unsigned strip_qualifiers(char *s)
{
	unsigned q = 0;
	static const struct { const char *w; unsigned q; } quals[] = {
		{ "const", KDX_QUAL_CONST }, { "volatile", KDX_QUAL_VOLATILE },
	};
	for (size_t i = 0; i < 2; i++) {
		size_t wl = strlen(quals[i].w);
		char *p = s;
		while ((p = strstr(p, quals[i].w))) {
			int start_ok = p == s || !(isalnum((unsigned char)p[-1]) || p[-1] == '_');
			int end_ok = !(isalnum((unsigned char)p[wl]) || p[wl] == '_');
			if (start_ok && end_ok) {
				memset(p, ' ', wl);
				q |= quals[i].q;
			}
			p += wl;
		}
	}
	return q;
}

/*
 * Abstract declarators ("*", "* const", "[16]", "[2][3]", "(*)(int, char *)",
 * "(*)[4]"), applied to T the way C reads them: pointers bind to the left
 * part, suffixes ("[N]", "(params)") bind tighter, parentheses group.
 */
static struct kdx_error *apply_declarator(struct kdx_types *types, const char *d, size_t len,
					  struct kdx_type *t, const char *whole, struct kdx_type **ret);

static size_t skip_ws(const char *d, size_t i, size_t len)
{
	while (i < len && isspace((unsigned char)d[i]))
		i++;
	return i;
}

/* Index of the bracket matching the one at I (or LEN). */
static size_t matching(const char *d, size_t i, size_t len)
{
	char open = d[i], close = open == '(' ? ')' : ']';
	int depth = 0;
	for (; i < len; i++) {
		if (d[i] == open)
			depth++;
		else if (d[i] == close && --depth == 0)
			return i;
	}
	return len;
}

static struct kdx_error *function_of(struct kdx_types *types, const char *p, size_t len,
				     struct kdx_type *ret_type, const char *whole, struct kdx_type **ret)
{
	struct ktype *k = ktype_new(types, NULL, 0, KDX_TYPE_FUNCTION);
	if (!k)
		return kdx_error_nomem();
	k->t.target = ret_type;
	struct kdx_type *params[64];
	size_t n = 0, start = 0;
	int depth = 0;
	for (size_t i = 0; i <= len; i++) {
		if (i < len && (p[i] == '(' || p[i] == '['))
			depth++;
		else if (i < len && (p[i] == ')' || p[i] == ']'))
			depth--;
		if (i < len && (p[i] != ',' || depth))
			continue;
		char one[256];
		size_t l = i - start;
		if (l >= sizeof(one))
			return kdx_error_create(KDX_ERR_SYNTAX, "type name too complex: %s", whole);
		memcpy(one, p + start, l);
		one[l] = 0;
		char *o = trim(one);
		start = i + 1;
		if (!*o && n == 0 && i == len)
			break;                      /* "()" */
		if (!strcmp(o, "...")) {
			k->t.variadic = 1;
			continue;
		}
		if (!strcmp(o, "void") && n == 0 && i == len)
			break;                      /* "(void)" */
		if (n == 64)
			return kdx_error_create(KDX_ERR_SYNTAX, "too many parameters in %s", whole);
		struct kdx_error *err = kdx_type_find(types, o, &params[n]);
		if (err)
			return err;
		n++;
	}
	if (n) {
		k->t.params = kdx_types_alloc(types, n * sizeof(*params));
		if (!k->t.params)
			return kdx_error_nomem();
		memcpy(k->t.params, params, n * sizeof(*params));
		k->t.nparams = n;
	}
	*ret = &k->t;
	return NULL;
}

/* Suffixes "[N]..." / "(params)..." of D applied to T: the first suffix is
 * the outermost. */
static struct kdx_error *apply_suffixes(struct kdx_types *types, const char *d, size_t len,
					struct kdx_type *t, const char *whole, struct kdx_type **ret)
{
	size_t i = skip_ws(d, 0, len);
	if (i == len) {
		*ret = t;
		return NULL;
	}
	if (d[i] != '[' && d[i] != '(')
		return kdx_error_create(KDX_ERR_SYNTAX, "cannot parse type name \"%s\"", whole);
	size_t end = matching(d, i, len);
	if (end == len)
		return kdx_error_create(KDX_ERR_SYNTAX, "unbalanced brackets in type name \"%s\"", whole);
	struct kdx_type *inner;
	struct kdx_error *err = apply_suffixes(types, d + end + 1, len - end - 1, t, whole, &inner);
	if (err)
		return err;
	if (d[i] == '(')
		return function_of(types, d + i + 1, end - i - 1, inner, whole, ret);
	char num[32];
	size_t l = end - i - 1;
	if (l >= sizeof(num))
		return kdx_error_create(KDX_ERR_SYNTAX, "bad array bound in type \"%s\"", whole);
	memcpy(num, d + i + 1, l);
	num[l] = 0;
	char *nb = trim(num), *e;
	if (!*nb) {
		*ret = kdx_type_array_of(types, inner, 0, 0);
	} else {
		uint64_t n = strtoull(nb, &e, 0);
		if (*e)
			return kdx_error_create(KDX_ERR_SYNTAX, "bad array bound in type \"%s\"", whole);
		*ret = kdx_type_array_of(types, inner, n, 1);
	}
	return *ret ? NULL : kdx_error_nomem();
}

static struct kdx_error *apply_declarator(struct kdx_types *types, const char *d, size_t len,
					  struct kdx_type *t, const char *whole, struct kdx_type **ret)
{
	size_t i = skip_ws(d, 0, len);
	/* pointers and their qualifiers, left to right */
	for (;;) {
		i = skip_ws(d, i, len);
		if (i < len && d[i] == '*') {
			t = kdx_type_pointer_to(types, t);
			if (!t)
				return kdx_error_nomem();
			i++;
		} else if (len - i >= 5 && !strncmp(d + i, "const", 5)) {
			t = qualified(types, t, KDX_QUAL_CONST);
			i += 5;
		} else if (len - i >= 8 && !strncmp(d + i, "volatile", 8)) {
			t = qualified(types, t, KDX_QUAL_VOLATILE);
			i += 8;
		} else {
			break;
		}
	}
	/* "(" starting a nested declarator, not a parameter list */
	if (i < len && d[i] == '(') {
		size_t j = skip_ws(d, i + 1, len);
		if (j < len && (d[j] == '*' || d[j] == '(' || d[j] == '[')) {
			size_t end = matching(d, i, len);
			if (end == len)
				return kdx_error_create(KDX_ERR_SYNTAX, "unbalanced parentheses in type name \"%s\"", whole);
			struct kdx_type *outer;
			struct kdx_error *err = apply_suffixes(types, d + end + 1, len - end - 1, t, whole, &outer);
			if (err)
				return err;
			return apply_declarator(types, d + i + 1, end - i - 1, outer, whole, ret);
		}
	}
	return apply_suffixes(types, d + i, len - i, t, whole, ret);
}

static struct kdx_error *parse_type_name(struct kdx_types *types, const char *name,
					 struct kdx_type **ret)
{
	char *buf = strdup(name);
	if (!buf)
		return kdx_error_nomem();
	char *s = trim(buf);
	struct kdx_error *err = NULL;

	/* Split off the abstract declarator. */
	char *decl = s + strcspn(s, "*[(");
	char *declcopy = strdup(decl);
	if (!declcopy) {
		free(buf);
		return kdx_error_nomem();
	}
	*decl = 0;
	unsigned q = strip_qualifiers(s);
	s = trim(s);
	struct kdx_type *t = NULL;
	err = find_base(types, s, &t);
	if (!err) {
		if (q)
			t = qualified(types, t, q);
		err = apply_declarator(types, declcopy, strlen(declcopy), t, name, ret);
	}
	free(declcopy);
	free(buf);
	return err;
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
	struct kdx_error *err = parse_type_name(types, name, &t);
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
	struct kdx_type *t = find_indexed(types, KDX_IDX_VARIABLE, name, &e, NULL);
	if (!t)
		t = find_indexed(types, KDX_IDX_FUNCTION, name, &e, NULL);
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
	struct kdx_type *t = find_indexed(types, KDX_IDX_VARIABLE, name, &e, &src);
	if (!t) {
		t = find_indexed(types, KDX_IDX_FUNCTION, name, &e, &src);
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
	if (!find_indexed(types, KDX_IDX_FUNCTION, name, &e, &src))
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
	struct kdx_type *t = find_indexed(types, KDX_IDX_ENUMERATOR, name, &e, NULL);
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

/* ---- source lines ---- */

struct kdx_error *kdx_types_addr_to_line(struct kdx_types *types, uint64_t addr, uint64_t kaslr,
					 const char **file, int *line)
{
	for (size_t i = 0; i < types->nsrcs; i++) {
		struct kdx_dwsrc *src = types->srcs[i];
		uint64_t a = addr;
		if (i == 0)
			a -= kaslr;
		else if (addr < src->lo || addr >= src->hi)
			continue;
		Dwarf_Die cu;
		if (!dwarf_addrdie(src->dw, a, &cu))
			continue;
		Dwarf_Line *l = dwarf_getsrc_die(&cu, a);
		if (!l)
			continue;
		int lineno = 0;
		const char *f = dwarf_linesrc(l, NULL, NULL);
		if (!f || dwarf_lineno(l, &lineno) != 0)
			continue;
		*file = f;
		*line = lineno;
		return NULL;
	}
	return kdx_error_create(KDX_ERR_NOT_FOUND, "no line information for 0x%" PRIx64, addr);
}

struct kdx_error *kdx_addr_to_line(struct kdx_session *s, uint64_t addr, const char **file, int *line)
{
	if (!s->types)
		return kdx_error_create(KDX_ERR_UNSUPPORTED, "no debug info loaded");
	return kdx_types_addr_to_line(s->types, addr, s->kaslr_offset, file, line);
}

/* Source file of a DW_AT_call_file / DW_AT_decl_file index in CU. */
static const char *cu_file(Dwarf_Die *cudie, Dwarf_Word idx)
{
	Dwarf_Files *files;
	size_t nfiles;
	if (dwarf_getsrcfiles(cudie, &files, &nfiles) != 0 || idx >= nfiles)
		return NULL;
	return dwarf_filesrc(files, idx, NULL, NULL);
}

struct kdx_error *kdx_types_inline_frames(struct kdx_types *types, uint64_t addr, uint64_t kaslr,
					  struct kdx_inline_frame *frames, size_t max, size_t *nret)
{
	*nret = 0;
	for (size_t i = 0; i < types->nsrcs; i++) {
		struct kdx_dwsrc *src = types->srcs[i];
		uint64_t a = addr;
		if (i == 0)
			a -= kaslr;
		else if (addr < src->lo || addr >= src->hi)
			continue;
		Dwarf_Die cu;
		if (!dwarf_addrdie(src->dw, a, &cu))
			continue;
		/* dwarf_getscopes gives the innermost DIE at A, but above an
		 * inlined instance it continues with the abstract definition's
		 * scopes; the physical nesting (who inlined whom) comes from
		 * dwarf_getscopes_die on that innermost DIE. */
		Dwarf_Die *inner = NULL, *scopes = NULL;
		int ni = dwarf_getscopes(&cu, a, &inner);
		int ns = ni > 0 ? dwarf_getscopes_die(&inner[0], &scopes) : -1;
		free(inner);
		if (ns <= 0) {
			free(scopes);
			continue;
		}
		/* innermost location: the line table */
		const char *file = NULL;
		int line = 0;
		Dwarf_Line *l = dwarf_getsrc_die(&cu, a);
		if (l) {
			file = dwarf_linesrc(l, NULL, NULL);
			dwarf_lineno(l, &line);
		}
		size_t n = 0;
		for (int j = 0; j < ns && n < max; j++) {
			int tag = dwarf_tag(&scopes[j]);
			if (tag != DW_TAG_inlined_subroutine && tag != DW_TAG_subprogram)
				continue;
			Dwarf_Attribute attr;
			frames[n].function = dwarf_formstring(dwarf_attr_integrate(&scopes[j], DW_AT_name, &attr));
			frames[n].file = file;
			frames[n].line = line;
			frames[n].inlined = tag == DW_TAG_inlined_subroutine;
			n++;
			if (tag == DW_TAG_subprogram)
				break;
			/* the next (outer) function's location is this call site */
			file = cu_file(&cu, attr_udata(&scopes[j], DW_AT_call_file, (uint64_t)-1));
			line = (int)attr_udata(&scopes[j], DW_AT_call_line, 0);
		}
		free(scopes);
		if (!n)
			continue;
		*nret = n;
		return NULL;
	}
	return kdx_error_create(KDX_ERR_NOT_FOUND, "no debug info for 0x%" PRIx64, addr);
}

struct kdx_error *kdx_addr_inline_frames(struct kdx_session *s, uint64_t addr,
					 struct kdx_inline_frame *frames, size_t max, size_t *n)
{
	if (!s->types)
		return kdx_error_create(KDX_ERR_UNSUPPORTED, "no debug info loaded");
	return kdx_types_inline_frames(s->types, addr, s->kaslr_offset, frames, max, n);
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
