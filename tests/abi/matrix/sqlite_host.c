/*
 * sqlite_host.c: a host in plain C99 for the ABI matrix, written once and compiled against each ABI
 * header version (the frozen 1.0 one, today's, and a simulated next minor). It serves one request
 * through a plugin over a wfp-host SQLite store file (which `wfp-host seed` filled and `wfp-host
 * dump` reads afterwards), with the SQLite C API. Its tables are exactly what the header it was
 * compiled against declares: compiled against 1.0, they have no respond_append and no begin_read,
 * and their struct_size is the 1.0 size.
 *
 *   sqlite_host --db FILE --plugin SO --now EPOCH_SECONDS --site ID METHOD PATH BODY
 *
 * Prints one JSON object: {"hostMinor":N,"status":N,"appends":N,"readTxns":N,"writeTxns":N,
 * "faults":[...],"etag":"...","body":BODY}. `faults` lists every contract break it saw (a struct
 * too short, an array of unequal struct_size, an answer missing or given twice, a transaction left
 * open, ...). Exit status 0 when the plugin loaded and answered without a fault.
 *
 * Size discipline, both directions: what the plugin wrote is read only as far as its struct_size
 * covers (read_sized), what the host writes into the plugin's struct goes only as far as the
 * plugin's struct_size (write_sized), and arrays are walked with the plugin's struct_size as
 * stride.
 */
#define _POSIX_C_SOURCE 200809L
#include <dlfcn.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wfp/plugin_abi.h>

enum { kMaxFaults = 16, kMaxRoutes = 8 };

struct wfp_call {
  int responded;
  int32_t status;
  char *body;
  size_t size;
  char etag[160];
  wfp_txn *open;
};
struct wfp_txn {
  wfp_call *call;
  int read_only;
  char **kept; /* strings lent to the plugin until the transaction ends */
  size_t kept_count;
};

static sqlite3 *g_db;
static int64_t g_now;
static int g_in_init, g_appends, g_read_txns, g_write_txns, g_fault_count;
static char g_faults[kMaxFaults][200];
static struct {
  char method[16], path[128];
  wfp_handler_fn handler;
  void *user_data;
} g_routes[kMaxRoutes];
static int g_route_count;

static void fault(const char *what) {
  if (g_fault_count < kMaxFaults)
    snprintf(g_faults[g_fault_count++], sizeof g_faults[0], "%s", what);
}

/* ---- the size discipline: the host's one helper for each direction ------------------------- */

/* Reads the plugin's struct at `src` into `dst` (the host's struct of `dst_size` bytes): only the
 * bytes both know, zero past them; dst's struct_size is then the number of bytes read. */
static void read_sized(void *dst, size_t dst_size, const void *src) {
  uint32_t given;
  size_t n;
  memcpy(&given, src, sizeof given);
  n = given < dst_size ? given : dst_size;
  memset(dst, 0, dst_size);
  memcpy(dst, src, n);
  given = (uint32_t)n;
  memcpy(dst, &given, sizeof given);
}

/* Writes the host's struct `src` (`src_size` bytes) into the plugin's `dst`: only as many bytes as
 * the plugin's struct_size says it has, never past, then struct_size = the bytes written. */
static void write_sized(void *dst, const void *src, size_t src_size) {
  uint32_t room;
  size_t n;
  memcpy(&room, dst, sizeof room);
  n = room < src_size ? room : src_size;
  memcpy(dst, src, n);
  room = (uint32_t)n;
  memcpy(dst, &room, sizeof room);
}

/* ---- the host table ------------------------------------------------------------------------ */

static void Log(wfp_host *h, wfp_log_level level, wfp_str m) {
  (void)h;
  fprintf(stderr, "[plugin %d] %.*s\n", (int)level, (int)m.size, m.data ? m.data : "");
}
static int64_t Now(wfp_host *h) {
  (void)h;
  return g_now * 1000000;
}
static wfp_status RegisterRoute(wfp_host *h, const wfp_route *given) {
  wfp_route r;
  (void)h;
  if (!g_in_init) return fault("register_route outside init"), WFP_ERR_STATE;
  read_sized(&r, sizeof r, given);
  if (!WFP_HAS_FIELD(wfp_route, &r, user_data) || !r.handler || !r.method.data ||
      r.method.size >= sizeof g_routes[0].method || r.path_template.size >= sizeof g_routes[0].path)
    return fault("register_route with a malformed route"), WFP_ERR_INVALID_ARGUMENT;
  if (g_route_count == kMaxRoutes) return WFP_ERR_INTERNAL;
  memcpy(g_routes[g_route_count].method, r.method.data, r.method.size);
  memcpy(g_routes[g_route_count].path, r.path_template.data, r.path_template.size);
  g_routes[g_route_count].handler = r.handler;
  g_routes[g_route_count].user_data = r.user_data;
  ++g_route_count;
  return WFP_OK;
}
static wfp_status GetSetting(wfp_host *h, wfp_str key, wfp_str *out) {
  (void)h, (void)key, (void)out;
  return WFP_ERR_NOT_FOUND;
}
static wfp_status Append(wfp_call *c, wfp_str chunk) {
  char *grown;
  if (!c->responded) return fault("respond_append before respond"), WFP_ERR_STATE;
  if (!(grown = realloc(c->body, c->size + chunk.size + 1))) return WFP_ERR_INTERNAL;
  if (chunk.size) memcpy(grown + c->size, chunk.data, chunk.size);
  c->body = grown, c->size += chunk.size, c->body[c->size] = '\0';
  return WFP_OK;
}
static wfp_status RespondAppend(wfp_call *c, wfp_str chunk) {
  ++g_appends;
  return Append(c, chunk);
}
static wfp_status Respond(wfp_call *c, const wfp_response *given) {
  wfp_response r;
  size_t i;
  if (c->responded) return fault("answered twice"), WFP_ERR_STATE;
  read_sized(&r, sizeof r, given);
  if (!WFP_HAS_FIELD(wfp_response, &r, body))
    return fault("a short wfp_response"), WFP_ERR_INVALID_ARGUMENT;
  if (r.status < 100 || r.status > 599)
    return fault("a status outside 100..599"), WFP_ERR_INVALID_ARGUMENT;
  for (i = 0; i < r.header_count; ++i)
    if (r.headers[i].name.size == 4 && memcmp(r.headers[i].name.data, "etag", 4) == 0 &&
        r.headers[i].value.size < sizeof c->etag) {
      memcpy(c->etag, r.headers[i].value.data, r.headers[i].value.size);
      c->etag[r.headers[i].value.size] = '\0';
    }
  c->responded = 1, c->status = r.status;
  return Append(c, r.body);
}

/* ---- the store over SQLite ----------------------------------------------------------------- */

static int exec(const char *sql) { return sqlite3_exec(g_db, sql, NULL, NULL, NULL); }
static wfp_status status_of(int rc) {
  if (rc == SQLITE_OK || rc == SQLITE_DONE || rc == SQLITE_ROW) return WFP_OK;
  if ((rc & 0xff) == SQLITE_BUSY) return WFP_ERR_BUSY;
  if ((rc & 0xff) == SQLITE_CONSTRAINT) return WFP_ERR_CONFLICT;
  return WFP_ERR_INTERNAL;
}
static sqlite3_stmt *prepare(const char *sql) {
  sqlite3_stmt *s = NULL;
  if (sqlite3_prepare_v2(g_db, sql, -1, &s, NULL) != SQLITE_OK) fault(sqlite3_errmsg(g_db));
  return s;
}
static void bind_str(sqlite3_stmt *s, int i, wfp_str v) {
  if (v.data)
    sqlite3_bind_text(s, i, v.data, (int)v.size, SQLITE_TRANSIENT);
  else
    sqlite3_bind_null(s, i);
}
/* A column's text, kept until the transaction ends; absent for NULL. */
static wfp_str keep(wfp_txn *t, sqlite3_stmt *s, int col) {
  wfp_str out = {NULL, 0};
  char **grown;
  if (sqlite3_column_type(s, col) == SQLITE_NULL) return out;
  out.size = (size_t)sqlite3_column_bytes(s, col);
  grown = realloc(t->kept, (t->kept_count + 1) * sizeof *grown);
  if (!grown || !(grown[t->kept_count] = malloc(out.size + 1))) return fault("out of memory"), out;
  t->kept = grown;
  memcpy(t->kept[t->kept_count], sqlite3_column_text(s, col), out.size + 1);
  out.data = t->kept[t->kept_count++];
  return out;
}

static wfp_status begin_txn(wfp_call *c, wfp_txn **out, int read_only) {
  wfp_txn *t;
  int rc;
  if (c->open) return fault("begin while a transaction is open"), WFP_ERR_STATE;
  if ((rc = exec(read_only ? "BEGIN" : "BEGIN IMMEDIATE")) != SQLITE_OK) return status_of(rc);
  if (!(t = calloc(1, sizeof *t))) return WFP_ERR_INTERNAL;
  t->call = c, t->read_only = read_only, c->open = t, *out = t;
  if (read_only)
    ++g_read_txns;
  else
    ++g_write_txns;
  return WFP_OK;
}
static wfp_status Begin(wfp_call *c, wfp_txn **out) { return begin_txn(c, out, 0); }
static void end_txn(wfp_txn *t) {
  size_t i;
  for (i = 0; i < t->kept_count; ++i) free(t->kept[i]);
  free(t->kept);
  t->call->open = NULL;
  free(t);
}
static void Rollback(wfp_txn *t) {
  exec("ROLLBACK");
  end_txn(t);
}
static wfp_status Commit(wfp_txn *t) {
  int rc = exec("COMMIT");
  if (rc != SQLITE_OK) exec("ROLLBACK");
  end_txn(t);
  return status_of(rc);
}

static wfp_status LoadSchedule(wfp_txn *t, int64_t site, int64_t id, wfp_schedule_info *out) {
  static const char kSql[] =
      "SELECT sc.id, p.site_id, p.id, p.name, w.id, w.name, w.timezone, w.schedule, w.pool_id,"
      " sc.next_schedule_time, sc.next_run_time, sc.last_session_time, sc.disabled_at"
      " FROM schedules sc JOIN workflows w ON w.id = sc.workflow_id"
      " JOIN projects p ON p.id = w.project_id WHERE sc.id = ?1 AND p.site_id = ?2";
  wfp_schedule_info info;
  sqlite3_stmt *s;
  int rc;
  if (!out || !WFP_HAS_FIELD(wfp_schedule_info, out, disabled_at))
    return fault("load_schedule with a struct_size short of 1.0's"), WFP_ERR_INVALID_ARGUMENT;
  if (!(s = prepare(kSql))) return WFP_ERR_INTERNAL;
  sqlite3_bind_int64(s, 1, id), sqlite3_bind_int64(s, 2, site);
  if ((rc = sqlite3_step(s)) != SQLITE_ROW) {
    sqlite3_finalize(s);
    return rc == SQLITE_DONE ? WFP_ERR_NOT_FOUND : status_of(rc);
  }
  memset(&info, 0x5a, sizeof info); /* a field this host forgot would show as 0x5a5a... */
  info.struct_size = sizeof info;
  info.schedule_id = sqlite3_column_int64(s, 0), info.site_id = sqlite3_column_int64(s, 1);
  info.project_id = sqlite3_column_int64(s, 2), info.project_name = keep(t, s, 3);
  info.workflow_definition_id = sqlite3_column_int64(s, 4), info.workflow_name = keep(t, s, 5);
  info.timezone = keep(t, s, 6), info.schedule_json = keep(t, s, 7), info.pool_id = keep(t, s, 8);
  info.next_schedule_time = sqlite3_column_int64(s, 9);
  info.next_run_time = sqlite3_column_int64(s, 10);
  info.has_last_session_time = sqlite3_column_type(s, 11) != SQLITE_NULL;
  info.last_session_time = sqlite3_column_int64(s, 11);
  info.has_disabled_at = sqlite3_column_type(s, 12) != SQLITE_NULL;
  info.disabled_at = sqlite3_column_int64(s, 12);
#ifdef WFP_TEST_FUTURE_FIELDS
  memset(info.future_fields, 0xee, sizeof info.future_fields); /* what a 1.2 host would add */
#endif
  sqlite3_finalize(s);
  write_sized(out, &info, sizeof info);
  return WFP_OK;
}

/* Visits one session; returns the visitor's answer. */
static int32_t visit(wfp_session_visitor v, void *u, int64_t id, wfp_str uuid, int64_t time,
                     const wfp_attempt_ref *attempts, size_t count) {
  wfp_session_info info;
  memset(&info, 0, sizeof info);
  info.struct_size = sizeof info;
  info.session_id = id, info.uuid = uuid, info.session_time = time;
  info.attempts = count ? attempts : NULL, info.attempt_count = count;
#ifdef WFP_TEST_FUTURE_FIELDS
  memset(info.future_fields, 0xee, sizeof info.future_fields);
#endif
  return v(u, &info);
}

static wfp_status ListSessions(wfp_txn *t, int64_t project, wfp_str wf, wfp_epoch_seconds from,
                               wfp_epoch_seconds to, wfp_session_visitor v, void *u) {
  static const char kSql[] =
      "SELECT s.id, s.uuid, s.session_time, a.name, a.\"index\" FROM sessions s"
      " LEFT JOIN attempts a ON a.session_id = s.id WHERE s.project_id = ?1"
      " AND s.workflow_name = ?2 AND s.session_time >= ?3 AND s.session_time < ?4"
      " ORDER BY s.session_time, a.\"index\"";
  wfp_attempt_ref refs[64];
  size_t n = 0;
  int64_t id = 0, time = 0;
  wfp_str uuid = {NULL, 0};
  int rc, stop = 0;
  sqlite3_stmt *s = prepare(kSql);
  if (!s) return WFP_ERR_INTERNAL;
  sqlite3_bind_int64(s, 1, project), bind_str(s, 2, wf);
  sqlite3_bind_int64(s, 3, from), sqlite3_bind_int64(s, 4, to);
  while (!stop && (rc = sqlite3_step(s)) == SQLITE_ROW) {
    if (id != sqlite3_column_int64(s, 0)) {
      if (id) stop = visit(v, u, id, uuid, time, refs, n) != 0;
      id = sqlite3_column_int64(s, 0), uuid = keep(t, s, 1), time = sqlite3_column_int64(s, 2);
      n = 0;
    }
    if (sqlite3_column_type(s, 4) != SQLITE_NULL && n < 64)
      refs[n].name = keep(t, s, 3), refs[n].index = sqlite3_column_int(s, 4), ++n;
  }
  if (!stop && id) visit(v, u, id, uuid, time, refs, n);
  sqlite3_finalize(s);
  return stop || rc == SQLITE_DONE ? WFP_OK : status_of(rc);
}

static wfp_status LatestBefore(wfp_txn *t, int64_t project, wfp_str wf, wfp_epoch_seconds before,
                               int32_t *found, wfp_epoch_seconds *out) {
  sqlite3_stmt *s = prepare(
      "SELECT session_time FROM sessions WHERE project_id = ?1 AND workflow_name = ?2"
      " AND session_time < ?3 ORDER BY session_time DESC LIMIT 1");
  int rc;
  (void)t;
  if (!s) return WFP_ERR_INTERNAL;
  sqlite3_bind_int64(s, 1, project), bind_str(s, 2, wf), sqlite3_bind_int64(s, 3, before);
  *found = 0, *out = 0;
  if ((rc = sqlite3_step(s)) == SQLITE_ROW) *found = 1, *out = sqlite3_column_int64(s, 0);
  sqlite3_finalize(s);
  return rc == SQLITE_ROW || rc == SQLITE_DONE ? WFP_OK : status_of(rc);
}

/* Runs `insert` on each element of the plugin's array (stride: the first's struct_size) inside a
 * savepoint: all or nothing. `min_size` is the 1.0 size every element must cover. */
typedef int (*insert_fn)(sqlite3_stmt *s, const void *element);
static wfp_status insert_all(wfp_txn *t, const char *sql, const void *array, size_t count,
                             size_t min_size, insert_fn insert, int64_t *ids) {
  const unsigned char *p = array;
  uint32_t stride = 0, size;
  size_t i;
  int rc = SQLITE_OK;
  sqlite3_stmt *s;
  if (t->read_only) return WFP_ERR_STATE;
  if (count == 0) return WFP_OK;
  memcpy(&stride, p, sizeof stride);
  if (stride < min_size)
    return fault("an array element short of 1.0's fields"), WFP_ERR_INVALID_ARGUMENT;
  if (!(s = prepare(sql))) return WFP_ERR_INTERNAL;
  exec("SAVEPOINT batch");
  for (i = 0; i < count && rc == SQLITE_OK; ++i, p += stride) {
    memcpy(&size, p, sizeof size);
    if (size != stride) {
      fault("an array whose elements' struct_size differ");
      rc = SQLITE_MISUSE;
      break;
    }
    sqlite3_reset(s);
    rc = insert(s, p);
    if (rc == SQLITE_DONE) rc = SQLITE_OK, ids[i] = sqlite3_last_insert_rowid(g_db);
  }
  sqlite3_finalize(s);
  if (rc != SQLITE_OK) exec("ROLLBACK TO batch");
  exec("RELEASE batch");
  return rc == SQLITE_MISUSE ? WFP_ERR_INVALID_ARGUMENT : status_of(rc);
}

static int insert_session(sqlite3_stmt *s, const void *element) {
  wfp_new_session n;
  read_sized(&n, sizeof n, element);
  sqlite3_bind_int64(s, 1, n.project_id), bind_str(s, 2, n.workflow_name);
  sqlite3_bind_int64(s, 3, n.session_time), bind_str(s, 4, n.uuid);
  return sqlite3_step(s);
}
static wfp_status CreateSessions(wfp_txn *t, const wfp_new_session *s, size_t n, int64_t *ids) {
  return insert_all(t,
                    "INSERT INTO sessions (project_id, workflow_name, session_time, uuid)"
                    " VALUES (?1, ?2, ?3, ?4)",
                    s, n, offsetof(wfp_new_session, uuid) + sizeof(wfp_str), insert_session, ids);
}

static int insert_attempt(sqlite3_stmt *s, const void *element) {
  wfp_new_attempt a;
  read_sized(&a, sizeof a, element);
  sqlite3_bind_int64(s, 1, a.session_id), bind_str(s, 2, a.name), sqlite3_bind_int(s, 3, a.index);
  sqlite3_bind_int(s, 4, a.state == WFP_ATTEMPT_BLOCKED ? 1 : 0), bind_str(s, 5, a.params_json);
  sqlite3_bind_int64(s, 6, a.created_at), bind_str(s, 7, a.pool_id);
  if (a.depends_on_session_id)
    sqlite3_bind_int64(s, 8, a.depends_on_session_id);
  else
    sqlite3_bind_null(s, 8);
  return sqlite3_step(s);
}
static wfp_status CreateAttempts(wfp_txn *t, const wfp_new_attempt *a, size_t n, int64_t *ids) {
  return insert_all(
      t,
      "INSERT INTO attempts (session_id, name, \"index\", done, success,"
      " cancel_requested, state, params, created_at, finished_at, pool_id,"
      " depends_on_session_id) VALUES (?1, ?2, ?3, 0, 0, 0, ?4, ?5, ?6, NULL, ?7, ?8)",
      a, n, offsetof(wfp_new_attempt, depends_on_session_id) + sizeof(int64_t), insert_attempt,
      ids);
}

static wfp_status MovePointer(wfp_txn *t, int64_t id, const wfp_schedule_pointer *given) {
  wfp_schedule_pointer p;
  sqlite3_stmt *s;
  int rc;
  if (t->read_only) return WFP_ERR_STATE;
  read_sized(&p, sizeof p, given);
  if (!WFP_HAS_FIELD(wfp_schedule_pointer, &p, last_session_time))
    return fault("a short wfp_schedule_pointer"), WFP_ERR_INVALID_ARGUMENT;
  if (!(s = prepare("UPDATE schedules SET next_schedule_time = ?2, next_run_time = ?3,"
                    " last_session_time = ?4 WHERE id = ?1 AND next_schedule_time <= ?2")))
    return WFP_ERR_INTERNAL;
  sqlite3_bind_int64(s, 1, id), sqlite3_bind_int64(s, 2, p.next_schedule_time);
  sqlite3_bind_int64(s, 3, p.next_run_time);
  if (p.has_last_session_time)
    sqlite3_bind_int64(s, 4, p.last_session_time);
  else
    sqlite3_bind_null(s, 4);
  rc = sqlite3_step(s);
  sqlite3_finalize(s);
  if (rc == SQLITE_DONE && sqlite3_changes(g_db) != 1) return WFP_ERR_INVALID_ARGUMENT;
  return status_of(rc);
}

#if WFP_ABI_VERSION_MINOR >= 1
static wfp_status BeginRead(wfp_call *c, wfp_txn **out) { return begin_txn(c, out, 1); }
#endif

/* ---- loading and serving ------------------------------------------------------------------- */

static const wfp_plugin_v1 *load(const char *path, void **lib) {
  wfp_plugin_entry_v1_fn entry;
  const wfp_plugin_v1 *d;
  void *sym;
  /* RTLD_NODELETE (where there is one) keeps the library mapped after dlclose: the caches its
   * dependencies keep for the process's lifetime (cctz's time zones) would otherwise look leaked
   * to LeakSanitizer in the sanitizer build. */
#ifdef RTLD_NODELETE
  const int flags = RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE;
#else
  const int flags = RTLD_NOW | RTLD_LOCAL;
#endif
  if (!(*lib = dlopen(path, flags))) return fprintf(stderr, "%s\n", dlerror()), NULL;
  if (!(sym = dlsym(*lib, WFP_PLUGIN_ENTRY_V1_NAME)))
    return fprintf(stderr, "not a v1 plugin\n"), NULL;
  memcpy(&entry, &sym, sizeof entry);
  d = entry();
  if (!d || !WFP_HAS_FIELD(wfp_plugin_v1, d, shutdown) || d->abi_major != WFP_ABI_VERSION_MAJOR ||
      d->abi_minor > WFP_ABI_VERSION_MINOR)
    return fprintf(stderr, "plugin refused: its descriptor needs another host\n"), NULL;
  return d;
}

static void print_json_string(const char *s) {
  putchar('"');
  for (; *s; ++s) {
    if (*s == '"' || *s == '\\') putchar('\\');
    putchar((unsigned char)*s < 0x20 ? ' ' : *s);
  }
  putchar('"');
}

static void print_result(const wfp_call *call) {
  int i;
  printf(
      "{\"hostMinor\":%d,\"status\":%d,\"appends\":%d,\"readTxns\":%d,\"writeTxns\":%d,\"faults\":"
      "[",
      WFP_ABI_VERSION_MINOR, (int)call->status, g_appends, g_read_txns, g_write_txns);
  for (i = 0; i < g_fault_count; ++i) {
    if (i) putchar(',');
    print_json_string(g_faults[i]);
  }
  printf("],\"etag\":");
  print_json_string(call->etag);
  printf(",\"body\":%s}\n", call->responded && call->size ? call->body : "null");
}

/* The registered route for METHOD and the template /api/schedules/{id}/backfill, or -1. */
static int find_route(const char *method) {
  int i;
  for (i = 0; i < g_route_count; ++i)
    if (strcmp(g_routes[i].method, method) == 0 &&
        strcmp(g_routes[i].path, "/api/schedules/{id}/backfill") == 0)
      return i;
  return -1;
}

/* Serves METHOD PATH BODY on the backfill route; PATH's {id} is the segment before /backfill. */
static int serve(const char *method, const char *path, const char *body, int64_t site) {
  static const char kPrefix[] = "/api/schedules/", kSuffix[] = "/backfill";
  wfp_call call;
  wfp_request req;
  wfp_path_param id;
  wfp_header header = {{"content-type", 12}, {"application/json", 16}};
  const char *id_start = path + strlen(kPrefix);
  const char *id_end = strstr(id_start, kSuffix);
  const int route = find_route(method);
  int32_t rc;
  if (route < 0 || strncmp(path, kPrefix, strlen(kPrefix)) != 0 || !id_end)
    return fprintf(stderr, "no route for %s %s\n", method, path), 1;
  memset(&call, 0, sizeof call);
  memset(&req, 0, sizeof req);
  req.struct_size = sizeof req;
  req.method.data = method, req.method.size = strlen(method);
  req.target.data = path, req.target.size = strlen(path);
  id.name.data = "id", id.name.size = 2, id.value.data = id_start;
  id.value.size = (size_t)(id_end - id_start);
  req.path_params = &id, req.path_param_count = 1, req.headers = &header, req.header_count = 1;
  req.body.data = body, req.body.size = strlen(body), req.site_id = site;
  req.request_id.data = "matrix-1", req.request_id.size = 8;
#ifdef WFP_TEST_FUTURE_FIELDS
  memset(req.future_fields, 0xee, sizeof req.future_fields);
#endif
  rc = g_routes[route].handler(g_routes[route].user_data, &req, &call);
  if (rc != 0) fault("the handler returned non-zero");
  if (!call.responded) fault("the handler did not answer"), call.status = 500;
  if (call.open) fault("a transaction left open"), Rollback(call.open);
  print_result(&call);
  free(call.body);
  return g_fault_count ? 1 : 0;
}

int main(int argc, char **argv) {
  static wfp_store_api store;
  static wfp_host_api host;
  const char *db = NULL, *plugin_path = NULL;
  const wfp_plugin_v1 *plugin;
  void *lib = NULL, *state = NULL;
  int64_t site = 0;
  int i, rc;
  for (i = 1; i + 1 < argc && argv[i][0] == '-'; i += 2) {
    if (strcmp(argv[i], "--db") == 0)
      db = argv[i + 1];
    else if (strcmp(argv[i], "--plugin") == 0)
      plugin_path = argv[i + 1];
    else if (strcmp(argv[i], "--now") == 0)
      g_now = atoll(argv[i + 1]);
    else if (strcmp(argv[i], "--site") == 0)
      site = atoll(argv[i + 1]);
    else
      return fprintf(stderr, "unknown option %s\n", argv[i]), 2;
  }
  if (!db || !plugin_path || argc - i != 3)
    return fprintf(stderr, "usage: %s --db F --plugin SO --now S --site N METHOD PATH BODY\n",
                   argv[0]),
           2;
  if (sqlite3_open_v2(db, &g_db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
    return fprintf(stderr, "cannot open %s\n", db), 1;
  sqlite3_busy_timeout(g_db, 5000);
  exec("PRAGMA foreign_keys = ON");

  store.struct_size = sizeof store; /* the size of the header compiled against: 1.0's for 1.0 */
  store.begin = Begin, store.commit = Commit, store.rollback = Rollback;
  store.load_schedule = LoadSchedule, store.list_sessions = ListSessions;
  store.latest_session_before = LatestBefore, store.create_sessions = CreateSessions;
  store.create_attempts = CreateAttempts, store.move_schedule_pointer = MovePointer;
  host.struct_size = sizeof host;
  host.abi_major = WFP_ABI_VERSION_MAJOR, host.abi_minor = WFP_ABI_VERSION_MINOR;
  host.host_name.data = "sqlite_host", host.host_name.size = 11;
  host.host_version.data = "1", host.host_version.size = 1;
  host.log = Log, host.now_micros = Now, host.register_route = RegisterRoute;
  host.get_setting = GetSetting, host.respond = Respond, host.store = &store;
#if WFP_ABI_VERSION_MINOR >= 1
  host.respond_append = RespondAppend, store.begin_read = BeginRead;
#else
  (void)RespondAppend;
#endif

  if (!(plugin = load(plugin_path, &lib))) return 1;
  g_in_init = 1, rc = plugin->init(&host, &state), g_in_init = 0;
  if (rc != 0) return fprintf(stderr, "init refused the host (%d)\n", (int)rc), 1;
  rc = serve(argv[i], argv[i + 1], argv[i + 2], site);
  plugin->shutdown(state);
  dlclose(lib);
  sqlite3_close(g_db);
  return rc;
}
