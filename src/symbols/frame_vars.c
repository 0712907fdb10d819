/*
 * Frame variables: scopes at a PC and a small DWARF expression evaluator
 * (see frame_vars.h).
 */
#include "symbols/frame_vars.h"
#include "symbols/types_internal.h"
#include "session.h"

#include <dwarf.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* DWARF x86_64 numbering (System V psABI): rax rdx rcx rbx rsi rdi rbp rsp
 * r8..r15 rip. */
int kdx_dwarf_reg_to_kdx(int dwreg)
{
	static const int map[] = {
		KDX_REG_RAX, KDX_REG_RDX, KDX_REG_RCX, KDX_REG_RBX, KDX_REG_RSI, KDX_REG_RDI,
		KDX_REG_RBP, KDX_REG_RSP, KDX_REG_R8, KDX_REG_R9, KDX_REG_R10, KDX_REG_R11,
		KDX_REG_R12, KDX_REG_R13, KDX_REG_R14, KDX_REG_R15, KDX_REG_RIP,
	};
	if (dwreg < 0 || dwreg >= (int)(sizeof(map) / sizeof(map[0])))
		return -1;
	return map[dwreg];
}

static const char *reg_name(int kreg)
{
	static const char *const names[] = {
		"r15", "r14", "r13", "r12", "rbp", "rbx", "r11", "r10", "r9", "r8", "rax",
		"rcx", "rdx", "rsi", "rdi", "orig_rax", "rip", "cs", "eflags", "rsp", "ss",
	};
	if (kreg >= 0 && kreg < (int)(sizeof(names) / sizeof(names[0])))
		return names[kreg];
	return "?";
}

/* The physical scopes at PC: innermost first, ending with the CU. */
struct scopes {
	struct kdx_dwsrc *src;
	uint64_t dwpc;
	Dwarf_Die cu;
	Dwarf_Die *s;
	int n;
};

static struct kdx_error *scopes_compute(struct kdx_types *types, uint64_t pc, uint64_t kaslr,
					struct scopes *sc);

/* Walking DIEs to a PC costs milliseconds in a big CU, and a frame asks
 * for its variable list and then each variable: keep the last PC's scopes.
 * The DIEs stay valid while the table lives. */
struct frame_cache {
	uint64_t pc, kaslr;
	size_t nsrcs;
	struct scopes sc;
};

static void frame_cache_free(void *p)
{
	struct frame_cache *c = p;
	if (c)
		free(c->sc.s);
	free(c);
}

static struct kdx_error *scopes_at(struct kdx_types *types, uint64_t pc, uint64_t kaslr,
				   struct scopes *sc)
{
	struct frame_cache *c = types->frame_cache;
	if (c && c->pc == pc && c->kaslr == kaslr && c->nsrcs == types->nsrcs) {
		*sc = c->sc;
		return NULL;
	}
	struct kdx_error *err = scopes_compute(types, pc, kaslr, sc);
	if (err)
		return err;
	if (!c) {
		c = calloc(1, sizeof(*c));
		if (!c)
			return NULL;   /* uncached: the caller owns nothing either way */
		types->frame_cache = c;
		types->frame_cache_free = frame_cache_free;
	}
	free(c->sc.s);
	c->pc = pc;
	c->kaslr = kaslr;
	c->nsrcs = types->nsrcs;
	c->sc = *sc;
	return NULL;
}

static struct kdx_error *scopes_compute(struct kdx_types *types, uint64_t pc, uint64_t kaslr,
					struct scopes *sc)
{
	memset(sc, 0, sizeof(*sc));
	for (size_t i = 0; i < types->nsrcs; i++) {
		struct kdx_dwsrc *src = types->srcs[i];
		uint64_t a = pc;
		if (i == 0)
			a -= kaslr;
		else if (pc < src->lo || pc >= src->hi)
			continue;
		Dwarf_Die cu;
		if (!kdx_dwsrc_addrdie(src, a, &cu))
			continue;
		Dwarf_Die *inner = NULL;
		int ni = dwarf_getscopes(&cu, a, &inner);
		/* dwarf_getscopes continues above an inlined instance with the
		 * abstract definition's scopes; the physical nesting comes from
		 * its innermost DIE. */
		int ns = ni > 0 ? dwarf_getscopes_die(&inner[0], &sc->s) : -1;
		free(inner);
		if (ns <= 0) {
			free(sc->s);
			sc->s = NULL;
			continue;
		}
		sc->src = src;
		sc->dwpc = a;
		sc->cu = cu;
		sc->n = ns;
		return NULL;
	}
	return kdx_error_create(KDX_ERR_NOT_FOUND, "no debug info for code at 0x%" PRIx64, pc);
}

static const char *die_name(Dwarf_Die *die)
{
	Dwarf_Attribute attr;
	return dwarf_formstring(dwarf_attr_integrate(die, DW_AT_name, &attr));
}

static struct kdx_type *die_type(struct kdx_types *types, struct kdx_dwsrc *src, Dwarf_Die *die)
{
	Dwarf_Attribute attr;
	Dwarf_Die t;
	if (!dwarf_attr_integrate(die, DW_AT_type, &attr) || !dwarf_formref_die(&attr, &t))
		return kdx_type_void(types);
	return kdx_types_from_die(types, src, &t);
}

static int is_function_scope(int tag)
{
	return tag == DW_TAG_subprogram || tag == DW_TAG_inlined_subroutine;
}

/* Name of the function scope at or above scope J. */
static const char *function_of(struct scopes *sc, int j)
{
	for (; j < sc->n; j++)
		if (is_function_scope(dwarf_tag(&sc->s[j])))
			return die_name(&sc->s[j]);
	return NULL;
}

/* Call FN for every variable DIE in scope, innermost first, until it
 * returns non-zero. */
static int for_each_var(struct scopes *sc, int (*fn)(struct scopes *sc, int j, Dwarf_Die *var, void *arg),
			void *arg)
{
	for (int j = 0; j < sc->n; j++) {
		int tag = dwarf_tag(&sc->s[j]);
		if (tag == DW_TAG_compile_unit)
			break;
		Dwarf_Die child;
		if (dwarf_child(&sc->s[j], &child) == 0) {
			do {
				int ct = dwarf_tag(&child);
				if (ct != DW_TAG_formal_parameter && ct != DW_TAG_variable)
					continue;
				if (dwarf_hasattr(&child, DW_AT_declaration))
					continue;
				int r = fn(sc, j, &child, arg);
				if (r)
					return r;
			} while (dwarf_siblingof(&child, &child) == 0);
		}
		if (tag == DW_TAG_subprogram)
			break;
	}
	return 0;
}

struct collect {
	struct kdx_types *types;
	struct kdx_frame_var *v;
	size_t n, cap;
	int oom;
};

static int collect_var(struct scopes *sc, int j, Dwarf_Die *var, void *arg)
{
	struct collect *c = arg;
	const char *name = die_name(var);
	if (!name)
		return 0;
	for (size_t i = 0; i < c->n; i++)
		if (!strcmp(c->v[i].name, name))
			return 0;       /* shadowed by an inner one */
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 16;
		struct kdx_frame_var *v = realloc(c->v, cap * sizeof(*v));
		if (!v) {
			c->oom = 1;
			return 1;
		}
		c->v = v;
		c->cap = cap;
	}
	struct kdx_frame_var *fv = &c->v[c->n++];
	fv->name = name;
	fv->type = die_type(c->types, sc->src, var);
	fv->is_param = dwarf_tag(var) == DW_TAG_formal_parameter;
	fv->function = function_of(sc, j);
	return 0;
}

struct kdx_error *kdx_types_frame_vars(struct kdx_types *types, uint64_t pc, uint64_t kaslr,
				       struct kdx_frame_var **vars, size_t *n)
{
	struct scopes sc;
	struct kdx_error *err = scopes_at(types, pc, kaslr, &sc);
	if (err)
		return err;
	struct collect c = { .types = types };
	for_each_var(&sc, collect_var, &c);
	if (c.oom) {
		free(c.v);
		return kdx_error_nomem();
	}
	*vars = c.v;
	*n = c.n;
	return NULL;
}

/* ---- locating one variable ---- */

struct find {
	const char *name;
	Dwarf_Die die;
	int found;
};

static int find_var(struct scopes *sc, int j, Dwarf_Die *var, void *arg)
{
	struct find *f = arg;
	const char *name = die_name(var);
	if (!name || strcmp(name, f->name))
		return 0;
	f->die = *var;
	f->found = 1;
	return 1;
}

struct eval_ctx {
	const struct kdx_frame_regs *fr;
	uint64_t kaslr;
	int is_vmlinux;
	kdx_read_u64_fn read;
	void *arg;
	struct scopes *sc;
	struct kdx_error *err;
};

static int unavailable(struct kdx_var_location *loc, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int unavailable(struct kdx_var_location *loc, const char *fmt, ...)
{
	va_list ap;
	loc->kind = KDX_LOC_UNAVAILABLE;
	va_start(ap, fmt);
	vsnprintf(loc->why, sizeof(loc->why), fmt, ap);
	va_end(ap);
	return -1;
}

static int reg_value(struct eval_ctx *ctx, int dwreg, uint64_t *v, struct kdx_var_location *loc)
{
	int r = kdx_dwarf_reg_to_kdx(dwreg);
	if (r < 0)
		return unavailable(loc, "DWARF register %d", dwreg);
	if (!(ctx->fr->valid & (1ull << r)))
		return unavailable(loc, "register %s not saved in this frame", reg_name(r));
	*v = ctx->fr->regs[r];
	return 0;
}

static int eval(struct eval_ctx *ctx, const Dwarf_Op *ops, size_t n, int want_addr,
		struct kdx_var_location *loc, uint64_t *result);

/* The frame base of the out-of-line function (DW_AT_frame_base). */
static int frame_base(struct eval_ctx *ctx, uint64_t *fb, struct kdx_var_location *loc)
{
	for (int j = 0; j < ctx->sc->n; j++) {
		if (dwarf_tag(&ctx->sc->s[j]) != DW_TAG_subprogram)
			continue;
		Dwarf_Attribute attr;
		Dwarf_Op *ops;
		size_t len;
		if (!dwarf_attr(&ctx->sc->s[j], DW_AT_frame_base, &attr) ||
		    dwarf_getlocation_addr(&attr, ctx->sc->dwpc, &ops, &len, 1) != 1)
			return unavailable(loc, "no frame base");
		struct kdx_var_location tmp;
		memset(&tmp, 0, sizeof(tmp));
		if (eval(ctx, ops, len, 1, &tmp, fb) || tmp.kind != KDX_LOC_MEMORY) {
			*loc = tmp;
			if (tmp.kind != KDX_LOC_UNAVAILABLE)
				unavailable(loc, "frame base is not an address");
			return -1;
		}
		return 0;
	}
	return unavailable(loc, "no enclosing function");
}

/*
 * Evaluate OPS. On success LOC->kind is MEMORY (address in *RESULT and
 * loc->addr), REGISTER or VALUE. Returns -1 with LOC filled otherwise.
 */
static int eval(struct eval_ctx *ctx, const Dwarf_Op *ops, size_t n, int want_addr,
		struct kdx_var_location *loc, uint64_t *result)
{
	uint64_t st[64];
	int sp = 0;
	int is_value = 0;
#define PUSH(x) do { if (sp == 64) return unavailable(loc, "DWARF stack overflow"); st[sp++] = (x); } while (0)
#define NEED(k) do { if (sp < (k)) return unavailable(loc, "malformed DWARF expression"); } while (0)

	/* A lone register (maybe followed by a piece covering it). */
	if (n >= 1 && ((ops[0].atom >= DW_OP_reg0 && ops[0].atom <= DW_OP_reg31) || ops[0].atom == DW_OP_regx) &&
	    (n == 1 || ops[1].atom == DW_OP_piece)) {
		int dwreg = ops[0].atom == DW_OP_regx ? (int)ops[0].number : ops[0].atom - DW_OP_reg0;
		int r = kdx_dwarf_reg_to_kdx(dwreg);
		loc->kind = KDX_LOC_REGISTER;
		loc->reg = r;
		if (r >= 0 && (ctx->fr->valid & (1ull << r))) {
			loc->value = ctx->fr->regs[r];
			loc->value_known = 1;
		}
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		const Dwarf_Op *op = &ops[i];
		uint64_t a, b;
		switch (op->atom) {
		case DW_OP_addr:
			PUSH(op->number + (ctx->is_vmlinux && op->number >= 0xffff000000000000ull ? ctx->kaslr : 0));
			break;
		case DW_OP_lit0 ... DW_OP_lit31:
			PUSH(op->atom - DW_OP_lit0);
			break;
		case DW_OP_const1u: case DW_OP_const2u: case DW_OP_const4u: case DW_OP_const8u:
		case DW_OP_const1s: case DW_OP_const2s: case DW_OP_const4s: case DW_OP_const8s:
		case DW_OP_constu: case DW_OP_consts:
			PUSH(op->number);
			break;
		case DW_OP_breg0 ... DW_OP_breg31:
			if (reg_value(ctx, op->atom - DW_OP_breg0, &a, loc))
				return -1;
			PUSH(a + (int64_t)op->number);
			break;
		case DW_OP_bregx:
			if (reg_value(ctx, (int)op->number, &a, loc))
				return -1;
			PUSH(a + (int64_t)op->number2);
			break;
		case DW_OP_fbreg:
			if (frame_base(ctx, &a, loc))
				return -1;
			PUSH(a + (int64_t)op->number);
			break;
		case DW_OP_call_frame_cfa:
			if (!ctx->fr->cfa)
				return unavailable(loc, "CFA unknown in this frame");
			PUSH(ctx->fr->cfa);
			break;
		case DW_OP_dup: NEED(1); a = st[sp - 1]; PUSH(a); break;
		case DW_OP_drop: NEED(1); sp--; break;
		case DW_OP_over: NEED(2); a = st[sp - 2]; PUSH(a); break;
		case DW_OP_swap: NEED(2); a = st[sp - 1]; st[sp - 1] = st[sp - 2]; st[sp - 2] = a; break;
		case DW_OP_plus_uconst: NEED(1); st[sp - 1] += op->number; break;
		case DW_OP_neg: NEED(1); st[sp - 1] = -st[sp - 1]; break;
		case DW_OP_not: NEED(1); st[sp - 1] = ~st[sp - 1]; break;
		case DW_OP_abs: NEED(1); if ((int64_t)st[sp - 1] < 0) st[sp - 1] = -st[sp - 1]; break;
		case DW_OP_skip:
		case DW_OP_bra: {
			if (op->atom == DW_OP_bra) {
				NEED(1);
				if (!st[--sp])
					break;
			}
			/* Branch target: the op at this op's end + the offset. */
			uint64_t target = op->offset + 3 + (int64_t)(int16_t)op->number;
			size_t k;
			for (k = 0; k < n && ops[k].offset != target; k++)
				;
			if (k == n && target != ops[n - 1].offset + 1)
				return unavailable(loc, "bad DWARF branch");
			if (k <= i)
				return unavailable(loc, "backward DWARF branch");
			i = k - 1;
			break;
		}
		case DW_OP_plus: case DW_OP_minus: case DW_OP_mul: case DW_OP_and: case DW_OP_or:
		case DW_OP_xor: case DW_OP_shl: case DW_OP_shr: case DW_OP_shra:
		case DW_OP_div: case DW_OP_mod:
		case DW_OP_eq: case DW_OP_ne: case DW_OP_lt: case DW_OP_gt: case DW_OP_le: case DW_OP_ge:
			NEED(2);
			b = st[--sp];
			a = st[sp - 1];
			switch (op->atom) {
			case DW_OP_div:
				if (!b)
					return unavailable(loc, "division by zero in DWARF expression");
				a = (uint64_t)((int64_t)a / (int64_t)b);
				break;
			case DW_OP_mod:
				if (!b)
					return unavailable(loc, "division by zero in DWARF expression");
				a %= b;
				break;
			case DW_OP_eq: a = a == b; break;
			case DW_OP_ne: a = a != b; break;
			case DW_OP_lt: a = (int64_t)a < (int64_t)b; break;
			case DW_OP_gt: a = (int64_t)a > (int64_t)b; break;
			case DW_OP_le: a = (int64_t)a <= (int64_t)b; break;
			case DW_OP_ge: a = (int64_t)a >= (int64_t)b; break;
			case DW_OP_plus: a += b; break;
			case DW_OP_minus: a -= b; break;
			case DW_OP_mul: a *= b; break;
			case DW_OP_and: a &= b; break;
			case DW_OP_or: a |= b; break;
			case DW_OP_xor: a ^= b; break;
			case DW_OP_shl: a = b < 64 ? a << b : 0; break;
			case DW_OP_shr: a = b < 64 ? a >> b : 0; break;
			default: a = b < 64 ? (uint64_t)((int64_t)a >> b) : 0; break;
			}
			st[sp - 1] = a;
			break;
		case DW_OP_deref:
		case DW_OP_deref_size: {
			NEED(1);
			if (!ctx->read)
				return unavailable(loc, "needs target memory");
			uint64_t v;
			struct kdx_error *err = ctx->read(ctx->arg, st[sp - 1], &v);
			if (err) {
				unavailable(loc, "cannot read %" PRIx64, st[sp - 1]);
				kdx_error_destroy(err);
				return -1;
			}
			if (op->atom == DW_OP_deref_size && op->number < 8)
				v &= (1ull << (op->number * 8)) - 1;
			st[sp - 1] = v;
			break;
		}
		case DW_OP_stack_value:
			is_value = 1;
			i = n;  /* ends the expression */
			break;
		case DW_OP_implicit_value: {
			uint64_t v = 0;
			size_t len = op->number < 8 ? op->number : 8;
			memcpy(&v, (const void *)(uintptr_t)op->number2, len);
			loc->kind = KDX_LOC_VALUE;
			loc->value = v;
			loc->value_known = 1;
			return 0;
		}
		case DW_OP_piece:
			/* Only "whole thing, then a piece" is handled (the
			 * caller checked the piece covers the variable). */
			i = n;
			break;
		case DW_OP_entry_value:
		case DW_OP_GNU_entry_value:
			return unavailable(loc, "value at function entry (DW_OP_entry_value)");
		case DW_OP_nop:
		case DW_OP_convert:
		case DW_OP_GNU_convert:
			/* values are kept as 64-bit integers */
			break;
		default:
			return unavailable(loc, "DWARF operation 0x%x not supported", op->atom);
		}
	}
	if (!sp)
		return unavailable(loc, "empty DWARF expression");
	*result = st[sp - 1];
	if (is_value && !want_addr) {
		loc->kind = KDX_LOC_VALUE;
		loc->value = st[sp - 1];
		loc->value_known = 1;
		return 0;
	}
	loc->kind = KDX_LOC_MEMORY;
	loc->addr = st[sp - 1];
	return 0;
#undef PUSH
#undef NEED
}

/* Several pieces: supported only when the first covers the variable. */
static int pieces_ok(const Dwarf_Op *ops, size_t n, uint64_t size)
{
	for (size_t i = 0; i < n; i++)
		if (ops[i].atom == DW_OP_piece || ops[i].atom == DW_OP_bit_piece)
			return ops[i].atom == DW_OP_piece && ops[i].number >= size;
	return 1;
}

struct kdx_error *kdx_types_frame_var_locate(struct kdx_types *types, uint64_t kaslr,
					     const struct kdx_frame_regs *fr, const char *name,
					     kdx_read_u64_fn read, void *arg,
					     struct kdx_type **type, struct kdx_var_location *loc)
{
	struct scopes sc;
	memset(loc, 0, sizeof(*loc));
	loc->reg = -1;
	struct kdx_error *err = scopes_at(types, fr->pc, kaslr, &sc);
	if (err)
		return err;
	struct find f = { .name = name };
	for_each_var(&sc, find_var, &f);
	if (!f.found) {
		const char *fn = function_of(&sc, 0);
		return kdx_error_create(KDX_ERR_NOT_FOUND, "no variable \"%s\" in scope in %s at 0x%" PRIx64,
					name, fn ? fn : "this function", fr->pc);
	}
	struct kdx_type *t = die_type(types, sc.src, &f.die);
	if (type)
		*type = t;

	Dwarf_Attribute attr;
	if (dwarf_attr_integrate(&f.die, DW_AT_const_value, &attr)) {
		Dwarf_Sword sv;
		Dwarf_Block blk;
		if (dwarf_formsdata(&attr, &sv) == 0) {
			loc->kind = KDX_LOC_VALUE;
			loc->value = (uint64_t)sv;
			loc->value_known = 1;
		} else if (dwarf_formblock(&attr, &blk) == 0) {
			loc->kind = KDX_LOC_VALUE;
			memcpy(&loc->value, blk.data, blk.length < 8 ? blk.length : 8);
			loc->value_known = 1;
		} else {
			unavailable(loc, "constant in an unsupported form");
		}
		return NULL;
	}
	Dwarf_Op *ops;
	size_t len;
	int r = dwarf_attr(&f.die, DW_AT_location, &attr)
		? dwarf_getlocation_addr(&attr, sc.dwpc, &ops, &len, 1) : 0;
	if (r < 0) {
		return kdx_error_create(KDX_ERR_FORMAT, "bad DWARF location of \"%s\": %s", name,
					dwarf_errmsg(-1));
	}
	if (r == 0 || len == 0) {
		loc->kind = KDX_LOC_OPTIMIZED_OUT;
		return NULL;
	}
	uint64_t size = kdx_type_unqualified(t) ? kdx_type_unqualified(t)->size : 0;
	if (!pieces_ok(ops, len, size)) {
		unavailable(loc, "split into pieces");
		return NULL;
	}
	struct eval_ctx ctx = { .fr = fr, .kaslr = kaslr, .is_vmlinux = sc.src->id == 0,
				.read = read, .arg = arg, .sc = &sc };
	uint64_t result;
	eval(&ctx, ops, len, 0, loc, &result);
	return NULL;
}

static struct kdx_error *session_read(void *arg, uint64_t addr, uint64_t *val)
{
	return kdx_read_u64(arg, addr, val);
}

struct kdx_error *kdx_frame_var_locate(struct kdx_session *s, const struct kdx_frame_regs *fr,
				       const char *name, struct kdx_type **type,
				       struct kdx_var_location *loc)
{
	if (!s->types)
		return kdx_error_create(KDX_ERR_UNSUPPORTED, "no debug info loaded");
	return kdx_types_frame_var_locate(s->types, s->kaslr_offset, fr, name, session_read, s,
					  type, loc);
}
