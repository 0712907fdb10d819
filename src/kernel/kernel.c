#include "kernel/kernel.h"

#include <stdlib.h>
#include "session.h"

struct kdx_kernel {
	void *obj[KDX_NR_SLOTS];
	void (*destroy[KDX_NR_SLOTS])(void *obj);
};

void *kdx_kernel_slot(struct kdx_session *s, enum kdx_kernel_slot slot)
{
	return s->kernel ? s->kernel->obj[slot] : NULL;
}

struct kdx_error *kdx_kernel_set_slot(struct kdx_session *s, enum kdx_kernel_slot slot,
				      void *obj, void (*destroy)(void *obj))
{
	if (!s->kernel) {
		s->kernel = calloc(1, sizeof(*s->kernel));
		if (!s->kernel)
			return kdx_error_nomem();
	}
	if (s->kernel->obj[slot] && s->kernel->destroy[slot])
		s->kernel->destroy[slot](s->kernel->obj[slot]);
	s->kernel->obj[slot] = obj;
	s->kernel->destroy[slot] = destroy;
	return NULL;
}

struct kdx_error *kdx_kernel_cached(struct kdx_session *s, enum kdx_kernel_slot slot, size_t size,
				    struct kdx_error *(*load)(struct kdx_session *s, void *obj),
				    void (*destroy)(void *obj), void **ret)
{
	void *obj = kdx_kernel_slot(s, slot);
	struct kdx_error *err;

	if (obj) {
		*ret = obj;
		return NULL;
	}
	obj = calloc(1, size);
	if (!obj)
		return kdx_error_nomem();
	if ((load && (err = load(s, obj))) || (err = kdx_kernel_set_slot(s, slot, obj, destroy))) {
		destroy(obj);
		return err;
	}
	*ret = obj;
	return NULL;
}

void kdx_kernel_destroy(struct kdx_session *s)
{
	if (!s->kernel)
		return;
	for (int i = 0; i < KDX_NR_SLOTS; i++)
		if (s->kernel->obj[i] && s->kernel->destroy[i])
			s->kernel->destroy[i](s->kernel->obj[i]);
	free(s->kernel);
	s->kernel = NULL;
}
