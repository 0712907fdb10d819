/*
 * C type names -> types: "struct list_head *", "unsigned long",
 * "char (*)[16]", "int (*)(const char *, ...)". The base (tag, typedef, any
 * spelling of the integer types) is looked up in the index; the abstract
 * declarator around it is applied the way C reads it.
 */
#include "symbols/types.h"
#include "symbols/types_internal.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>


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
		t = kdx_types_find_indexed(types, kind, words[1], NULL, NULL);
		if (!t)
			return kdx_error_create(KDX_ERR_NOT_FOUND, "no %s \"%s\" in the debug info",
						words[0], words[1]);
		*ret = t;
		return NULL;
	}
	if (n == 1 && !strcmp(words[0], "void")) {
		*ret = kdx_type_void(types);
		return NULL;
	}
	const char *canon = canonical_base(words, n);
	if (canon) {
		t = kdx_types_find_indexed(types, KDX_IDX_BASE, canon, NULL, NULL);
		if (!t)
			t = kdx_types_synth_int(types, canon);
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
			t = kdx_types_find_indexed(types, order[i], words[0], NULL, NULL);
	} else {
		t = kdx_types_find_indexed(types, KDX_IDX_BASE, base, NULL, NULL);
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
	struct kdx_type *ft = kdx_types_new_type(types, KDX_TYPE_FUNCTION);
	if (!ft)
		return kdx_error_nomem();
	ft->target = ret_type;
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
			ft->variadic = 1;
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
		ft->params = kdx_types_alloc(types, n * sizeof(*params));
		if (!ft->params)
			return kdx_error_nomem();
		memcpy(ft->params, params, n * sizeof(*params));
		ft->nparams = n;
	}
	*ret = ft;
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
			t = kdx_types_qualified(types, t, KDX_QUAL_CONST);
			i += 5;
		} else if (len - i >= 8 && !strncmp(d + i, "volatile", 8)) {
			t = kdx_types_qualified(types, t, KDX_QUAL_VOLATILE);
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

struct kdx_error *kdx_types_parse_name(struct kdx_types *types, const char *name,
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
			t = kdx_types_qualified(types, t, q);
		err = apply_declarator(types, declcopy, strlen(declcopy), t, name, ret);
	}
	free(declcopy);
	free(buf);
	return err;
}

