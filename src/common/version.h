/* version.h - version string of memtuned and of the libraries it runs on */
#ifndef MEMTUNED_VERSION_H
#define MEMTUNED_VERSION_H

#include <stdio.h>

#ifndef MEMTUNED_VERSION
#define MEMTUNED_VERSION "unknown"
#endif

/* Print "<prog> VERSION" and the run-time versions of libvirt, libnl and
 * libcgroup, so a bug report says what the binary really ran with. */
void version_print(FILE *out, const char *prog);

#endif
