/*
 * Xen x86-64 PV guest ABI: HYPERVISOR_xen_version(cmd, arg) (mirrors Xen
 * 4.17's xen/include/public/version.h). Every command returns 0 on success
 * except XENVER_version, XENVER_pagesize and XENVER_build_id, which return
 * a value. Xen types the string arguments as char arrays
 * (xen_extraversion_t is char[16]); here they are one-member structs of the
 * same size, so that their sizes can be asserted and passed around typed.
 */
#ifndef VIREO_PUBLIC_VERSION_H
#define VIREO_PUBLIC_VERSION_H

#include <stdint.h>

#include <public/xen.h>
#include <public/features.h>

#define XENVER_version             0   /* NULL; returns major << 16 | minor */
#define XENVER_extraversion        1   /* struct xen_extraversion */
#define XENVER_compile_info        2   /* struct xen_compile_info */
#define XENVER_capabilities        3   /* struct xen_capabilities_info */
#define XENVER_changeset           4   /* struct xen_changeset_info */
#define XENVER_platform_parameters 5   /* struct xen_platform_parameters */
#define XENVER_get_features        6   /* struct xen_feature_info */
#define XENVER_pagesize            7   /* NULL; returns the page size */
#define XENVER_guest_handle        8   /* uint8_t[16]: the domain's UUID */
#define XENVER_commandline         9   /* struct xen_commandline (privileged) */
#define XENVER_build_id           10   /* struct xen_build_id; returns its length */

/* XENVER_extraversion: e.g. ".0" (NUL-terminated). */
struct xen_extraversion {
	char extraversion[16];
};
#define XEN_EXTRAVERSION_LEN 16

_Static_assert(sizeof(struct xen_extraversion) == XEN_EXTRAVERSION_LEN, "xen_extraversion is 16 bytes");

/* XENVER_compile_info. */
struct xen_compile_info {
	char compiler[64];
	char compile_by[16];
	char compile_domain[32];
	char compile_date[32];
};

_Static_assert(sizeof(struct xen_compile_info) == 144, "xen_compile_info is 144 bytes");
_Static_assert(__builtin_offsetof(struct xen_compile_info, compile_by) == 64,
	       "xen_compile_info.compile_by");
_Static_assert(__builtin_offsetof(struct xen_compile_info, compile_domain) == 80,
	       "xen_compile_info.compile_domain");
_Static_assert(__builtin_offsetof(struct xen_compile_info, compile_date) == 112,
	       "xen_compile_info.compile_date");

/*
 * XENVER_capabilities: space-separated guest types the hypervisor runs,
 * e.g. "xen-3.0-x86_64 xen-3.0-x86_32p".
 */
struct xen_capabilities_info {
	char info[1024];
};
#define XEN_CAPABILITIES_INFO_LEN 1024

_Static_assert(sizeof(struct xen_capabilities_info) == XEN_CAPABILITIES_INFO_LEN, "xen_capabilities_info is 1024 bytes");

/* XENVER_changeset: the source revision string. */
struct xen_changeset_info {
	char info[64];
};
#define XEN_CHANGESET_INFO_LEN 64

_Static_assert(sizeof(struct xen_changeset_info) == XEN_CHANGESET_INFO_LEN, "xen_changeset_info is 64 bytes");

/* XENVER_platform_parameters: where the hypervisor hole starts (HYPERVISOR_VIRT_START). */
struct xen_platform_parameters {
	xen_ulong_t virt_start;
};

_Static_assert(sizeof(struct xen_platform_parameters) == 8, "xen_platform_parameters is 8 bytes");

/* XENVER_get_features: 32-bit submap submap_idx of the XENFEAT_* bits. */
struct xen_feature_info {
	uint32_t submap_idx;    /* IN: which 32-bit submap */
	uint32_t submap;        /* OUT */
};

_Static_assert(sizeof(struct xen_feature_info) == 8, "xen_feature_info is 8 bytes");
_Static_assert(__builtin_offsetof(struct xen_feature_info, submap) == 4, "xen_feature_info.submap");

/* XENVER_commandline: the hypervisor's command line. */
struct xen_commandline {
	char line[1024];
};

_Static_assert(sizeof(struct xen_commandline) == 1024, "xen_commandline is 1024 bytes");

/*
 * XENVER_build_id: len bytes of buffer follow the header; a call with a
 * NULL argument returns the build id's size.
 */
struct xen_build_id {
	uint32_t len;           /* IN: size of buf */
	uint8_t buf[];          /* OUT */
};

_Static_assert(sizeof(struct xen_build_id) == 4, "xen_build_id header is 4 bytes");

#endif
