/* kdx error codes, shared by kdx itself and its extensions. */
#ifndef KDX_PUBLIC_ERRORS_H
#define KDX_PUBLIC_ERRORS_H

enum kdx_error_code {
	KDX_ERR_NOMEM = 1,
	KDX_ERR_FAULT,       /* memory at an address cannot be read */
	KDX_ERR_INVALID,     /* bad argument or bad input data */
	KDX_ERR_NOT_FOUND,   /* symbol, type, member, task... not found */
	KDX_ERR_IO,          /* host file I/O */
	KDX_ERR_FORMAT,      /* file is not in a format we read, or is corrupt */
	KDX_ERR_UNSUPPORTED,
	KDX_ERR_INTERRUPTED, /* Ctrl-C */
	KDX_ERR_SYNTAX,      /* command line or expression syntax */
	KDX_ERR_MISMATCH,    /* vmlinux does not match the dump */
	KDX_ERR_OTHER,
};

#endif
