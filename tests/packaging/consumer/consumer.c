/*
 * consumer.c: built against an installed wfp. Includes <wfp/plugin_abi.h> from the package's
 * include dir, dlopens the installed plugin (its path comes from find_package(wfp)), and checks its
 * descriptor: struct size, ABI version (the header's, which the package reports too), name,
 * version. Exits 0 when all holds; prints what differs otherwise.
 */
#define _POSIX_C_SOURCE 200809L
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>
#include <wfp/plugin_abi.h>

#if WFP_ABI_VERSION_MAJOR != EXPECTED_ABI_MAJOR || WFP_ABI_VERSION_MINOR != EXPECTED_ABI_MINOR
#error "the installed header's ABI version differs from the one the CMake package reports"
#endif

int main(void) {
  void *lib = dlopen(WFP_BACKFILL_PLUGIN_PATH, RTLD_NOW | RTLD_LOCAL), *sym;
  wfp_plugin_entry_v1_fn entry;
  const wfp_plugin_v1 *d;
  int failures = 0;
  if (!lib) return fprintf(stderr, "dlopen: %s\n", dlerror()), 1;
  if (!(sym = dlsym(lib, WFP_PLUGIN_ENTRY_V1_NAME))) return fprintf(stderr, "no entry\n"), 1;
  memcpy(&entry, &sym, sizeof entry);
  d = entry();
  if (d->struct_size < sizeof *d) ++failures, fprintf(stderr, "struct_size %u\n", d->struct_size);
  if (d->abi_major != WFP_ABI_VERSION_MAJOR || d->abi_minor > WFP_ABI_VERSION_MINOR)
    ++failures, fprintf(stderr, "ABI %u.%u\n", (unsigned)d->abi_major, (unsigned)d->abi_minor);
  if (strcmp(d->name, "backfill") != 0) ++failures, fprintf(stderr, "name %s\n", d->name);
  if (strcmp(d->version, EXPECTED_PLUGIN_VERSION) != 0)
    ++failures, fprintf(stderr, "version %s, package %s\n", d->version, EXPECTED_PLUGIN_VERSION);
  if (!d->init || !d->shutdown) ++failures, fprintf(stderr, "no init or shutdown\n");
  printf("%s: %s %s, ABI %u.%u\n", WFP_BACKFILL_PLUGIN_PATH, d->name, d->version,
         (unsigned)d->abi_major, (unsigned)d->abi_minor);
  dlclose(lib);
  return failures == 0 ? 0 : 1;
}
