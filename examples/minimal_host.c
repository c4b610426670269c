/*
 * minimal_host.c: the smallest complete wfp host, in plain C99 with dlopen (no Boost, no C++).
 * Usage: minimal_host PLUGIN.so
 * Loads the plugin, checks its descriptor, calls init with a host table whose store answers from an
 * in-memory table (one schedule: daily> 09:00:00 in Asia/Tokyo, no sessions), sends it one request
 * (POST /api/schedules/5/backfill), prints the status, the body and the store's counts, then calls
 * shutdown and dlclose. Single-threaded, so the ABI's threading rules hold trivially; strings the
 * plugin passes in are copied (here: only counted) before the host function returns.
 * Versions: it compiles against any 1.x header, and reads and writes the plugin's structs by the
 * ABI's size rules (read_sized, write_sized, array stride: docs/abi.md), so it also works with a
 * plugin built against an older or a newer header.
 */
#define _POSIX_C_SOURCE 200809L
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <wfp/plugin_abi.h>

#define S(lit) \
  { lit, sizeof(lit) - 1 }
enum { kMax = 64 };

/* The in-memory store: the schedule's pointer and the session times and attempts created so far. */
static wfp_schedule_pointer g_ptr = {sizeof(wfp_schedule_pointer), 1704898800, 1704931200, 0, 0};
static wfp_epoch_seconds g_session_time[kMax];
static int64_t g_attempt_session[kMax];
static size_t g_sessions, g_attempts;
struct wfp_txn {
  size_t sessions, attempts;
  wfp_schedule_pointer ptr;
}; /* state to roll back to */
static struct wfp_txn g_txn;
struct wfp_call {
  int responded;
  int32_t status;
  char *body;
  size_t size;
};
static wfp_route g_route; /* the one route the plugin registers, its strings copied to: */
static char g_method[16], g_template[128];
static int g_in_init;

/* The plugin's struct at `src`, as far as its struct_size goes, into ours (zero past it). */
static void read_sized(void *dst, size_t dst_size, const void *src) {
  uint32_t n;
  memcpy(&n, src, sizeof n);
  if (n > dst_size) n = (uint32_t)dst_size;
  memset(dst, 0, dst_size);
  memcpy(dst, src, n);
  memcpy(dst, &n, sizeof n); /* struct_size: what was read */
}
/* Our struct into the plugin's: no more than its struct_size, which then says what was written. */
static void write_sized(void *dst, const void *src, size_t src_size) {
  uint32_t n;
  memcpy(&n, dst, sizeof n);
  if (n > src_size) n = (uint32_t)src_size;
  memcpy(dst, src, n);
  memcpy(dst, &n, sizeof n);
}

static void Log(wfp_host *h, wfp_log_level level, wfp_str m) {
  (void)h;
  fprintf(stderr, "[plugin %d] %.*s\n", (int)level, (int)m.size, m.data);
}
static int64_t NowMicros(wfp_host *h) {
  (void)h;
  return (int64_t)time(NULL) * 1000000;
}
static wfp_status RegisterRoute(wfp_host *h, const wfp_route *r) {
  (void)h;
  if (!g_in_init) return WFP_ERR_STATE;
  if (r->struct_size < sizeof *r || r->method.size >= sizeof g_method ||
      r->path_template.size >= sizeof g_template || !r->handler)
    return WFP_ERR_INVALID_ARGUMENT;
  if (g_route.handler) return WFP_ERR_CONFLICT; /* this host serves one route */
  g_route = *r; /* the host copies what the plugin passes: the strings too */
  memcpy(g_method, r->method.data, r->method.size), g_method[r->method.size] = '\0';
  memcpy(g_template, r->path_template.data, r->path_template.size);
  g_template[r->path_template.size] = '\0';
  g_route.method.data = g_method, g_route.path_template.data = g_template;
  return WFP_OK;
}
static wfp_status GetSetting(wfp_host *h, wfp_str key, wfp_str *out) {
  static const wfp_str kKey = S("backfill.max_sessions"), kValue = S("1000");
  (void)h;
  if (key.size != kKey.size || memcmp(key.data, kKey.data, key.size) != 0) return WFP_ERR_NOT_FOUND;
  *out = kValue;
  return WFP_OK;
}
static wfp_status Append(wfp_call *c, wfp_str chunk) {
  char *grown;
  if (!c->responded) return WFP_ERR_STATE;
  if (!(grown = realloc(c->body, c->size + chunk.size + 1))) return WFP_ERR_INTERNAL;
  memcpy(grown + c->size, chunk.data, chunk.size);
  c->body = grown, c->size += chunk.size, c->body[c->size] = '\0';
  return WFP_OK;
}
static wfp_status Respond(wfp_call *c, const wfp_response *given) {
  wfp_response r;
  if (c->responded) return WFP_ERR_STATE;
  read_sized(&r, sizeof r, given);
  if (!WFP_HAS_FIELD(wfp_response, &r, body)) return WFP_ERR_INVALID_ARGUMENT;
  if (r.status < 100 || r.status > 599) return WFP_ERR_INVALID_ARGUMENT;
  c->responded = 1, c->status = r.status;
  return Append(c, r.body);
}

static wfp_status Begin(wfp_call *c, wfp_txn **out) {
  (void)c;
  g_txn.sessions = g_sessions, g_txn.attempts = g_attempts, g_txn.ptr = g_ptr;
  *out = &g_txn;
  return WFP_OK;
}
static void Rollback(wfp_txn *t) {
  g_sessions = t->sessions, g_attempts = t->attempts, g_ptr = t->ptr;
}
static wfp_status Commit(wfp_txn *t) {
  (void)t;
  return WFP_OK;
}
static wfp_status LoadSchedule(wfp_txn *t, int64_t site, int64_t id, wfp_schedule_info *o) {
  static const wfp_str kProject = S("etl"), kWorkflow = S("load"), kTz = S("Asia/Tokyo");
  static const wfp_str kSchedule = S("{\"daily>\":\"09:00:00\"}");
  wfp_schedule_info info;
  (void)t;
  if (!WFP_HAS_FIELD(wfp_schedule_info, o, disabled_at)) return WFP_ERR_INVALID_ARGUMENT;
  if (site != 1 || id != 5) return WFP_ERR_NOT_FOUND;
  memset(&info, 0, sizeof info);
  info.struct_size = sizeof info, info.schedule_id = 5, info.site_id = 1, info.project_id = 1;
  info.project_name = kProject, info.workflow_definition_id = 11, info.workflow_name = kWorkflow;
  info.timezone = kTz, info.schedule_json = kSchedule; /* pool_id stays absent (data == NULL) */
  info.next_schedule_time = g_ptr.next_schedule_time, info.next_run_time = g_ptr.next_run_time;
  info.has_last_session_time = g_ptr.has_last_session_time;
  info.last_session_time = g_ptr.last_session_time;
  write_sized(o, &info, sizeof info);
  return WFP_OK;
}
static wfp_status ListSessions(wfp_txn *t, int64_t p, wfp_str w, wfp_epoch_seconds from,
                               wfp_epoch_seconds to, wfp_session_visitor v, void *u) {
  (void)t, (void)p, (void)w, (void)from, (void)to, (void)v, (void)u;
  return WFP_OK; /* a real store would visit its sessions in range, with their attempts */
}
static wfp_status LatestBefore(wfp_txn *t, int64_t p, wfp_str w, wfp_epoch_seconds before,
                               int32_t *found, wfp_epoch_seconds *out) {
  size_t i;
  (void)t, (void)p, (void)w;
  *found = 0;
  for (i = 0; i < g_sessions; ++i)
    if (g_session_time[i] < before && (!*found || g_session_time[i] > *out))
      *found = 1, *out = g_session_time[i];
  return WFP_OK;
}
/* Element i of the plugin's array: the elements are the first one's struct_size apart. */
static const void *element(const void *array, size_t i) {
  uint32_t stride;
  memcpy(&stride, array, sizeof stride);
  return (const unsigned char *)array + i * stride;
}
static wfp_status CreateSessions(wfp_txn *t, const wfp_new_session *s, size_t n, int64_t *ids) {
  wfp_new_session e;
  size_t i, j;
  (void)t;
  if (g_sessions + n > kMax) return WFP_ERR_INTERNAL;
  for (i = 0; i < n; ++i) {
    read_sized(&e, sizeof e, element(s, i));
    if (!WFP_HAS_FIELD(wfp_new_session, &e, uuid)) return WFP_ERR_INVALID_ARGUMENT;
    for (j = 0; j < g_sessions; ++j)
      if (g_session_time[j] == e.session_time) return WFP_ERR_CONFLICT;
  }
  for (i = 0; i < n; ++i, ++g_sessions) {
    read_sized(&e, sizeof e, element(s, i));
    g_session_time[g_sessions] = e.session_time, ids[i] = 100 + (int64_t)g_sessions;
  }
  return WFP_OK;
}
static wfp_status CreateAttempts(wfp_txn *t, const wfp_new_attempt *a, size_t n, int64_t *ids) {
  wfp_new_attempt e;
  size_t i;
  (void)t;
  if (g_attempts + n > kMax) return WFP_ERR_INTERNAL;
  for (i = 0; i < n; ++i, ++g_attempts) {
    read_sized(&e, sizeof e, element(a, i));
    g_attempt_session[g_attempts] = e.session_id, ids[i] = 1000 + (int64_t)g_attempts;
  }
  return WFP_OK;
}
static wfp_status MovePointer(wfp_txn *t, int64_t id, const wfp_schedule_pointer *given) {
  wfp_schedule_pointer p;
  (void)t;
  read_sized(&p, sizeof p, given);
  if (!WFP_HAS_FIELD(wfp_schedule_pointer, &p, last_session_time)) return WFP_ERR_INVALID_ARGUMENT;
  if (id != 5) return WFP_ERR_NOT_FOUND;
  if (p.next_schedule_time < g_ptr.next_schedule_time) return WFP_ERR_INVALID_ARGUMENT;
  g_ptr = p;
  g_ptr.struct_size = sizeof g_ptr;
  return WFP_OK;
}

int main(int argc, char **argv) {
  /* Written for any 1.x header: compiled against the 1.0 one, the tables have no 1.1 fields and
   * their struct_size is 1.0's (a plugin then does without them). */
  static const wfp_store_api store = {
    sizeof store,
    Begin,
    Commit,
    Rollback,
    LoadSchedule,
    ListSessions,
    LatestBefore,
    CreateSessions,
    CreateAttempts,
    MovePointer
#if WFP_ABI_VERSION_MINOR >= 1
    ,
    NULL /* begin_read (1.1, optional): plugins fall back to begin */
#endif
#if WFP_ABI_VERSION_MINOR >= 4
    ,
    NULL /* load_schedule_window (1.4, optional): plugins make the three calls it combines */
#endif
  };
  static const wfp_host_api host = {
    sizeof host,
    WFP_ABI_VERSION_MAJOR,
    WFP_ABI_VERSION_MINOR,
    NULL,
    S("minimal_host"),
    S("1.0"), /* the example host's own version */
    Log,
    NowMicros,
    RegisterRoute,
    GetSetting,
    Respond,
    &store
#if WFP_ABI_VERSION_MINOR >= 1
    ,
    Append /* respond_append (1.1) */
#endif
#if WFP_ABI_VERSION_MINOR >= 3
    ,
    NULL, /* register_metric (1.3, optional): this host keeps no metrics; plugins record none */
    NULL, /* metric_add (1.3) */
    NULL  /* metric_observe (1.3) */
#endif
  };
  static const char kBody[] =
      "{\"fromTime\":\"2024-01-08T00:00:00+09:00\",\"attemptName\":\"fix\",\"dryRun\":false}";
  wfp_path_param id = {S("id"), S("5")};
  wfp_header headers[] = {{S("content-type"), S("application/json")}};
  wfp_request req = {
      sizeof req, S("POST"), S("/api/schedules/5/backfill"), NULL, 1, NULL, 1, S(kBody),
      1,          S("req-1")};
  struct wfp_call call = {0, 0, NULL, 0};
  wfp_plugin_entry_v1_fn entry;
  const wfp_plugin_v1 *plugin;
  void *lib, *sym, *state = NULL;
  int32_t rc;

  if (argc != 2) return fprintf(stderr, "usage: %s PLUGIN.so\n", argv[0]), 2;
  /* 1. Load and find the entry point (memcpy: ISO C has no void* -> function pointer cast). */
  if (!(lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL))) return fprintf(stderr, "%s\n", dlerror()), 1;
  if (!(sym = dlsym(lib, WFP_PLUGIN_ENTRY_V1_NAME))) return fprintf(stderr, "not a v1 plugin\n"), 1;
  memcpy(&entry, &sym, sizeof entry);
  /* 2. Check the descriptor before calling anything in it. */
  plugin = entry();
  if (plugin->struct_size < sizeof *plugin || plugin->abi_major != WFP_ABI_VERSION_MAJOR ||
      plugin->abi_minor > WFP_ABI_VERSION_MINOR)
    return fprintf(stderr, "incompatible plugin\n"), 1;
  printf("plugin %s %s, ABI %u.%u\n", plugin->name, plugin->version, (unsigned)plugin->abi_major,
         (unsigned)plugin->abi_minor);
  /* 3. init: routes are registered now, and only now. */
  g_in_init = 1, rc = plugin->init(&host, &state), g_in_init = 0;
  if (rc != 0 || !g_route.handler) return fprintf(stderr, "init refused (%d)\n", (int)rc), 1;
  /* 4. Serve one request. This host knows one route, so it matches the method and template only. */
  if (strcmp(g_method, "POST") != 0 || strcmp(g_template, "/api/schedules/{id}/backfill") != 0)
    return fprintf(stderr, "unexpected route %s %s\n", g_method, g_template), 1;
  req.path_params = &id, req.headers = headers;
  rc = g_route.handler(g_route.user_data, &req, &call);
  if (rc != 0 || !call.responded) call.status = 500; /* a real host also logs the fault */
  printf("status %d\n%s\n", (int)call.status, call.body ? call.body : "");
  printf("store sessions=%lu attempts=%lu next_schedule_time=%lld\n", (unsigned long)g_sessions,
         (unsigned long)g_attempts, (long long)g_ptr.next_schedule_time);
  /* 5. shutdown after the last handler call, then unload. */
  plugin->shutdown(state);
  free(call.body);
  dlclose(lib);
  return call.status == 200 ? 0 : 1;
}
