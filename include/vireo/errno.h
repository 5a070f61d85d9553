/*
 * Error numbers. Vireo returns Xen-style negative errno values to guests; Xen's
 * values are Linux's (xen/include/public/errno.h), so these are the same
 * numbers on the wire whatever the host is.
 */
#ifndef VIREO_ERRNO_H
#define VIREO_ERRNO_H

#define VIREO_EPERM    1
#define VIREO_ENOENT   2
#define VIREO_ESRCH    3
#define VIREO_EINTR    4
#define VIREO_EIO      5
#define VIREO_E2BIG    7
#define VIREO_EBADF    9
#define VIREO_EAGAIN  11
#define VIREO_ENOMEM  12
#define VIREO_EACCES  13
#define VIREO_EFAULT  14
#define VIREO_EBUSY   16
#define VIREO_EEXIST  17
#define VIREO_EINVAL  22
#define VIREO_ENOSPC  28
#define VIREO_ERANGE  34
#define VIREO_ENOSYS  38
#define VIREO_ETIME   62
#define VIREO_EOVERFLOW 75
#define VIREO_ERESTART 85     /* internal: a hypercall continues (never seen by a guest) */
#define VIREO_EOPNOTSUPP 95

#endif
