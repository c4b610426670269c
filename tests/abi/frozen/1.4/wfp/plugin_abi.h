/*
 * wfp plugin ABI, version 1.4: the only thing a host and a plugin share.
 *
 * What it is for
 *   A host (an HTTP workflow server such as wfp-host) loads plugins (shared libraries) and lets
 * them serve routes. A plugin reaches the host only through the table of function pointers below:
 * the log, the clock, route registration, settings, the response sink, and a domain-level store (no
 * SQL: a host on SQLite and a host on PostgreSQL implement the same table).
 *
 * Loading sequence (host side)
 *   1. dlopen the library (RTLD_NOW | RTLD_LOCAL) and look up `wfp_plugin_entry_v1`, the one
 * exported symbol of ABI major 1. A library without it is refused: not a wfp plugin, or another
 * major.
 *   2. Call it. It returns a pointer to a static, immutable `wfp_plugin_v1` descriptor (the "magic
 *      block"): check `struct_size`, `abi_major == WFP_ABI_VERSION_MAJOR` and `abi_minor <= the
 * host's minor` BEFORE calling anything else in it.
 *   3. Call `init` once, from one thread, with the host table. Routes may be registered only during
 *      init; a registration at any other time fails with WFP_ERR_STATE. A non-zero return from init
 *      refuses the plugin (the host then unloads it without calling shutdown).
 *   4. Serve: handlers are called concurrently from the host's worker threads.
 *   5. Call `shutdown` once, after the last handler call has returned and before dlclose.
 *
 * Versioning
 *   Every struct that crosses the boundary begins with `uint32_t struct_size` (sizeof as the writer
 *   compiled it). Fields are only ever appended, and the minor version grows when they are; a
 * reader reads a field only when struct_size covers it (WFP_HAS_FIELD). Removing or changing a
 * field, or a function's signature, is a new major version with a new entry symbol
 * (`wfp_plugin_entry_v2`).
 *
 * Ownership
 *   Everything the host passes to a plugin is borrowed: valid until the call that passed it returns
 *   (request views), or until the transaction ends (store results), as stated on each function. The
 *   plugin copies what it keeps. Everything the plugin passes to the host is copied by the host
 * before the host function returns. No allocator, no C++ type and no exception crosses this
 * boundary: a plugin catches everything in every function it exports.
 *
 * Threading
 *   Stated on each function. In short: the host table may be used from any thread; a `wfp_call` and
 *   the transaction opened through it belong to the thread running that handler call, for its
 * duration.
 *
 * This header is C99, depends only on standard headers, and compiles with -pedantic.
 */
#ifndef WFP_PLUGIN_ABI_H_
#define WFP_PLUGIN_ABI_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define WFP_ABI_VERSION_MAJOR 1
#define WFP_ABI_VERSION_MINOR 4

/* The exported entry point's name for this major version, as a string for dlsym. */
#define WFP_PLUGIN_ENTRY_V1_NAME "wfp_plugin_entry_v1"

#if defined(_WIN32)
#define WFP_EXPORT __declspec(dllexport)
#else
#define WFP_EXPORT __attribute__((visibility("default")))
#endif

/* True when a struct written with `size` bytes contains `field` (offset plus width within size).
 * C++11 has a form without a cast of a null pointer (-Wold-style-cast, -Wzero-as-null-pointer-
 * constant stay quiet in the plugin's code); both give the same value. */
#if defined(__cplusplus) && __cplusplus >= 201103L
#define WFP_HAS_FIELD(type, ptr, field) \
  ((ptr)->struct_size >= offsetof(type, field) + sizeof(type::field))
#else
#define WFP_HAS_FIELD(type, ptr, field) \
  ((ptr)->struct_size >= offsetof(type, field) + sizeof(((type *)0)->field))
#endif

/* ---------------------------------------------------------------------------------------------- */
/* Status codes. Every fallible host function returns one; 0 is success.                          */
/* ---------------------------------------------------------------------------------------------- */
typedef int32_t wfp_status;
#define WFP_OK 0
#define WFP_ERR_INVALID_ARGUMENT 1 /* a null pointer, a bad struct_size, a malformed value */
#define WFP_ERR_NOT_FOUND 2        /* no such schedule (for the caller's site), no such session */
#define WFP_ERR_CONFLICT 3         /* a unique invariant would break (session time, attempt name) */
#define WFP_ERR_BUSY 4             /* the store's lock could not be had in time: retry later */
#define WFP_ERR_STATE 5            /* wrong time: route outside init, respond twice, txn finished */
#define WFP_ERR_INTERNAL 6         /* anything else in the host or its store (details in its log) */
#define WFP_ERR_UNSUPPORTED 7      /* the host does not implement this (optional) function */

/* ---------------------------------------------------------------------------------------------- */
/* Plain values.                                                                                  */
/* ---------------------------------------------------------------------------------------------- */

/* A string of `size` bytes, UTF-8, not necessarily NUL-terminated. `data == NULL` means "absent"
 * (SQL NULL, JSON null); an empty present string has a non-null data and size 0. */
typedef struct wfp_str {
  const char *data;
  size_t size;
} wfp_str;

/* Times crossing the ABI are integer seconds since the Unix epoch, UTC. */
typedef int64_t wfp_epoch_seconds;

typedef struct wfp_header {
  wfp_str name; /* lower-case */
  wfp_str value;
} wfp_header;

typedef struct wfp_path_param {
  wfp_str name; /* as in the template: "id" for "/api/schedules/{id}/backfill" */
  wfp_str value;
} wfp_path_param;

/* Log levels. */
typedef int32_t wfp_log_level;
#define WFP_LOG_DEBUG 0
#define WFP_LOG_INFO 1
#define WFP_LOG_WARN 2
#define WFP_LOG_ERROR 3

/* ---------------------------------------------------------------------------------------------- */
/* Requests and responses.                                                                        */
/* ---------------------------------------------------------------------------------------------- */

/* Opaque host objects. A wfp_call is valid only until its handler returns: do not keep it. A host
 * may refuse a call used after that with WFP_ERR_STATE (wfp-host does, for a while), or may not be
 * able to tell it from a later request's. */
typedef struct wfp_host wfp_host; /* the host; passed back on every host-level call */
typedef struct wfp_call wfp_call; /* one handler invocation (one request) */
typedef struct wfp_txn wfp_txn;   /* one store transaction, opened through a call */

/* A request as the host matched it. Borrowed: valid until the handler returns. The host has already
 * authenticated the caller: `site_id` is the caller's site, and every store lookup is scoped to it.
 * On a public route (WFP_ROUTE_PUBLIC) nobody is authenticated and `site_id` is 0, a site no store
 * lookup finds anything of.
 */
typedef struct wfp_request {
  uint32_t struct_size;
  wfp_str method; /* "POST"; a HEAD request comes as "GET" (the host drops the body it answers) */
  wfp_str target; /* path and query as received: "/api/schedules/5/backfill" */
  const wfp_path_param *path_params;
  size_t path_param_count;
  const wfp_header *headers; /* names lower-case; repeated headers appear repeatedly */
  size_t header_count;
  wfp_str body;
  int64_t site_id;
  wfp_str request_id; /* for log lines; unique per request within a host process */
} wfp_request;

/* A response. The host copies everything before `respond` returns. */
typedef struct wfp_response {
  uint32_t struct_size;
  int32_t status;            /* 100..599; anything else is refused with WFP_ERR_INVALID_ARGUMENT */
  const wfp_header *headers; /* Content-Type among them; the host adds Content-Length */
  size_t header_count;
  wfp_str body;
} wfp_response;

/* A route handler. Called concurrently from several host threads (a handler must be thread-safe).
 * It answers by calling host->respond(call, ...) exactly once. Returning without having responded,
 * or returning non-zero, or any call the host refused during the handler (a contract violation:
 * a bad status, a second answer...) makes the host answer 500 with a generic message and log the
 * fault; once the head of a streamed answer (respond_append) has gone out, the host cuts the
 * answer off instead, so that the client can tell. It must not let an exception or a longjmp
 * escape. The plugin runs in the host's process: a crash in it ends the host. */
typedef int32_t (*wfp_handler_fn)(void *user_data, const wfp_request *request, wfp_call *call);

/* Route flags (wfp_route.flags, since 1.2). */
#define WFP_ROUTE_PUBLIC 0x1u /* served without an API key (a page, a document); site_id is 0 */

typedef struct wfp_route {
  uint32_t struct_size;
  wfp_str method;        /* "GET", "POST", ... */
  wfp_str path_template; /* "/api/schedules/{id}/backfill": literal segments and {name} segments */
  wfp_handler_fn handler;
  void *user_data; /* passed back to the handler as is */
  /* Since 1.2 (a host reads it only when WFP_HAS_FIELD says so): WFP_ROUTE_* bits, 0 for none.
   * A host that does not know a bit ignores it, and one older than 1.2 ignores the field: a
   * route that asks to be public is then authenticated like any other (the safe default). */
  uint32_t flags;
} wfp_route;

/* ---------------------------------------------------------------------------------------------- */
/* The domain-level store.                                                                        */
/* ---------------------------------------------------------------------------------------------- */

/* A schedule with what a backfill needs, as load_schedule returns it. Borrowed: the strings are
 * valid until the transaction ends. */
typedef struct wfp_schedule_info {
  uint32_t struct_size;
  int64_t schedule_id;
  int64_t site_id;
  int64_t project_id;
  wfp_str project_name;
  int64_t workflow_definition_id;
  wfp_str workflow_name;
  wfp_str timezone;      /* IANA name or fixed offset ("+09:00"); empty means UTC */
  wfp_str schedule_json; /* the workflow's `schedule:` object as JSON text */
  wfp_str pool_id;       /* absent (data == NULL) when the workflow has no pool */
  wfp_epoch_seconds next_schedule_time;
  wfp_epoch_seconds next_run_time;
  int32_t has_last_session_time; /* 0 or 1 */
  wfp_epoch_seconds last_session_time;
  int32_t has_disabled_at; /* 0 or 1 */
  wfp_epoch_seconds disabled_at;
} wfp_schedule_info;

typedef struct wfp_attempt_ref {
  wfp_str name; /* absent for the unnamed attempt */
  int32_t index;
} wfp_attempt_ref;

/* An existing session with the names and indexes of its attempts. Borrowed: valid during the
 * callback only. */
typedef struct wfp_session_info {
  uint32_t struct_size;
  int64_t session_id;
  wfp_str uuid;
  wfp_epoch_seconds session_time;
  const wfp_attempt_ref *attempts; /* ordered by index */
  size_t attempt_count;
} wfp_session_info;

/* Called once per session, in ascending session time. Return 0 to go on, non-zero to stop early
 * (list_sessions then returns WFP_OK). */
typedef int32_t (*wfp_session_visitor)(void *user_data, const wfp_session_info *session);

typedef struct wfp_new_session {
  uint32_t struct_size;
  int64_t project_id;
  wfp_str workflow_name;
  wfp_epoch_seconds session_time;
  wfp_str uuid; /* 36 characters, lower-case hex, chosen by the plugin */
} wfp_new_session;

/* Attempt states a plugin may create. The host derives the stored flags from them. */
typedef int32_t wfp_attempt_state;
#define WFP_ATTEMPT_QUEUED 0
#define WFP_ATTEMPT_BLOCKED 1 /* waits for depends_on_session_id */

typedef struct wfp_new_attempt {
  uint32_t struct_size;
  int64_t session_id;
  wfp_str name; /* absent for an unnamed attempt */
  int32_t index;
  wfp_attempt_state state;
  wfp_str params_json; /* a JSON object */
  wfp_epoch_seconds created_at;
  wfp_str pool_id;               /* absent for none */
  int64_t depends_on_session_id; /* 0 for none */
} wfp_new_attempt;

typedef struct wfp_schedule_pointer {
  uint32_t struct_size;
  wfp_epoch_seconds next_schedule_time;
  wfp_epoch_seconds next_run_time;
  int32_t has_last_session_time;
  wfp_epoch_seconds last_session_time;
} wfp_schedule_pointer;

/* wfp_session_window.flags. WFP_WINDOW_LAST_READ: in a read-only transaction (begin_read), the
 * caller reads nothing more in it after this call. The host may then end the snapshot with the call
 * (on PostgreSQL, in the same round trip); a later read in the transaction answers WFP_ERR_STATE,
 * and commit or rollback still frees it. A caller that finds the window too short starts a new
 * transaction. Ignored in a write transaction. */
#define WFP_WINDOW_LAST_READ 1u

/* What load_schedule_window (since 1.4) reads besides the schedule: the first sessions of the
 * schedule's workflow from a time on, and the latest one before that time. The caller fills the
 * inputs and the host writes the outputs. */
typedef struct wfp_session_window {
  uint32_t struct_size;
  /* In: visit the sessions with from <= session_time < to in ascending session time, at most
   * max_sessions of them (at least 1), each as list_sessions visits it. */
  wfp_epoch_seconds from;
  wfp_epoch_seconds to;
  uint32_t max_sessions;
  wfp_session_visitor visitor;
  void *user_data;
  /* In: WFP_WINDOW_* bits, 0 for none. A host ignores a bit it does not know. */
  uint32_t flags;
  /* Out: 1 when every session of [from, to) was visited; 0 when max_sessions or the visitor stopped
   * the visits first (what comes after the last visited session is then unknown). */
  int32_t complete;
  /* Out: the latest session_time strictly before `from`, as latest_session_before answers it. */
  int32_t has_latest_before; /* 0 or 1 */
  wfp_epoch_seconds latest_before;
} wfp_session_window;

/* Every store function is called from the handler's thread, with a transaction begun through that
 * handler's call; a transaction must be finished (commit or rollback) before the handler returns:
 * a host rolls back and logs a transaction left open. On any error but WFP_ERR_CONFLICT from a
 * create function, the transaction can only be rolled back. */
typedef struct wfp_store_api {
  uint32_t struct_size;

  /* Begins a write transaction that holds the store's lock for the schedules it loads (SQLite:
   * BEGIN IMMEDIATE; PostgreSQL: SELECT ... FOR UPDATE in load_schedule). WFP_ERR_BUSY when the
   * lock is not had within the host's timeout. */
  wfp_status (*begin)(wfp_call *call, wfp_txn **out_txn);
  /* Commits and frees the transaction. On failure it is rolled back and freed all the same. */
  wfp_status (*commit)(wfp_txn *txn);
  /* Rolls back and frees the transaction. Never fails for a valid txn. */
  void (*rollback)(wfp_txn *txn);

  /* Loads and locks a schedule of `site_id` with its project, workflow and definition.
   * WFP_ERR_NOT_FOUND when there is none, or it belongs to another site. */
  wfp_status (*load_schedule)(wfp_txn *txn, int64_t site_id, int64_t schedule_id,
                              wfp_schedule_info *out);

  /* Visits the sessions of (project, workflow) with from <= session_time < to, each with all its
   * attempts, in ascending session time. One query, whatever the range. */
  wfp_status (*list_sessions)(wfp_txn *txn, int64_t project_id, wfp_str workflow_name,
                              wfp_epoch_seconds from, wfp_epoch_seconds to,
                              wfp_session_visitor visitor, void *user_data);

  /* The latest session_time of (project, workflow) strictly before `before`. *out_found is 0 when
   * there is none. Sessions count whether or not they have attempts. */
  wfp_status (*latest_session_before)(wfp_txn *txn, int64_t project_id, wfp_str workflow_name,
                                      wfp_epoch_seconds before, int32_t *out_found,
                                      wfp_epoch_seconds *out_time);

  /* Creates `count` sessions; writes their ids to out_ids[0..count). WFP_ERR_CONFLICT when one
   * exists already (nothing of the batch is then created). */
  wfp_status (*create_sessions)(wfp_txn *txn, const wfp_new_session *sessions, size_t count,
                                int64_t *out_ids);

  /* Creates `count` attempts; writes their ids to out_ids[0..count). WFP_ERR_CONFLICT when an
   * attempt of that session and name (the unnamed one included) exists already. */
  wfp_status (*create_attempts)(wfp_txn *txn, const wfp_new_attempt *attempts, size_t count,
                                int64_t *out_ids);

  /* Moves a schedule's pointer. WFP_ERR_INVALID_ARGUMENT if it would move next_schedule_time back.
   */
  wfp_status (*move_schedule_pointer)(wfp_txn *txn, int64_t schedule_id,
                                      const wfp_schedule_pointer *pointer);

  /* Since 1.1 (read it only when WFP_HAS_FIELD says so, and it is not null). Begins a read-only
   * transaction: one consistent snapshot of the store, without the write lock, so that readers
   * (a dry run) neither wait for writers nor make them wait. load_schedule then does not lock;
   * create_sessions, create_attempts and move_schedule_pointer answer WFP_ERR_STATE. Finished with
   * commit or rollback like any transaction. */
  wfp_status (*begin_read)(wfp_call *call, wfp_txn **out_txn);

  /* Since 1.4 (read it only when WFP_HAS_FIELD says so, and it is not null). What a plugin reads
   * before it plans, in one call, so that a store reached over the network answers in one round
   * trip: load_schedule, then the sessions `window` asks for (of the loaded schedule's project and
   * workflow), then the latest session before window->from. The answers are those of the three
   * calls made in that order in this transaction. WFP_ERR_NOT_FOUND as load_schedule, with nothing
   * visited; WFP_ERR_INVALID_ARGUMENT for a window whose struct_size does not cover its 1.4 fields,
   * a null visitor, from > to, or max_sessions 0. */
  wfp_status (*load_schedule_window)(wfp_txn *txn, int64_t site_id, int64_t schedule_id,
                                     wfp_schedule_info *out, wfp_session_window *window);
} wfp_store_api;

/* ---------------------------------------------------------------------------------------------- */
/* Metrics (since 1.3).                                                                           */
/* ---------------------------------------------------------------------------------------------- */

/* A metric family the host registered for a plugin (opaque). Owned by the host: valid from
 * register_metric until the plugin's shutdown returns. */
typedef struct wfp_metric wfp_metric;

typedef int32_t wfp_metric_kind;
#define WFP_METRIC_COUNTER 0   /* only goes up: metric_add */
#define WFP_METRIC_HISTOGRAM 1 /* a distribution: metric_observe */

/* What register_metric registers. The host copies everything before it returns. */
typedef struct wfp_metric_desc {
  uint32_t struct_size;
  wfp_metric_kind kind;
  wfp_str name; /* [a-zA-Z_:][a-zA-Z0-9_:]*, unique in the host: "wfp_backfill_requests_total" */
  wfp_str help; /* one line */
  const wfp_str *label_names; /* [a-zA-Z_][a-zA-Z0-9_]*, not starting with "__"; may be NULL */
  size_t label_count;         /* at most 8 */
  const double *buckets; /* histograms: ascending upper bounds; NULL or 0: the host's default */
  size_t bucket_count;
} wfp_metric_desc;

/* ---------------------------------------------------------------------------------------------- */
/* The host table.                                                                                */
/* ---------------------------------------------------------------------------------------------- */
typedef struct wfp_host_api {
  uint32_t struct_size;
  uint16_t abi_major; /* the host's ABI version */
  uint16_t abi_minor;
  wfp_host *host;       /* pass to the host-level functions below */
  wfp_str host_name;    /* "wfp-host" */
  wfp_str host_version; /* "0.1.0" */

  /* Any thread, any time. The host copies the message; it never includes secrets in its own log. */
  void (*log)(wfp_host *host, wfp_log_level level, wfp_str message);

  /* Any thread, any time. The host's clock (a fixed one in tests), in microseconds since the epoch.
   */
  int64_t (*now_micros)(wfp_host *host);

  /* During init only, from the init thread. WFP_ERR_STATE outside init; WFP_ERR_CONFLICT when that
   * method and template are registered already; WFP_ERR_INVALID_ARGUMENT for a bad template. */
  wfp_status (*register_route)(wfp_host *host, const wfp_route *route);

  /* Any thread, any time. A setting for plugins ("backfill.max_sessions"): writes a borrowed view
   * valid for the host's lifetime to *out. WFP_ERR_NOT_FOUND when not set. Ask for every key the
   * plugin reads during init too: a host may refuse a setting no plugin asked for (wfp-host does,
   * so that a misspelt key stops it instead of being ignored). */
  wfp_status (*get_setting)(wfp_host *host, wfp_str key, wfp_str *out);

  /* From the handler's thread during its call, exactly once. The host copies the response.
   * WFP_ERR_STATE on a second call (the host then answers 500); WFP_ERR_INVALID_ARGUMENT for a
   * status outside 100..599 or a malformed header. A refused call is the handler's fault: the
   * request is answered 500 whatever follows, and later calls get WFP_ERR_STATE. */
  wfp_status (*respond)(wfp_call *call, const wfp_response *response);

  /* The store. Never null; a host without a store sets every function to return
   * WFP_ERR_UNSUPPORTED. */
  const wfp_store_api *store;

  /* Since 1.1 (read it only when WFP_HAS_FIELD says so, and it is not null). From the handler's
   * thread during its call, after `respond` succeeded: appends `chunk` to the body of the response
   * already given; the host copies it. A plugin streams a large body in pieces this way instead of
   * building it whole first and having the host copy it whole. WFP_ERR_STATE before `respond`
   * and after a refused call; WFP_ERR_INTERNAL when the client is gone (not a fault: stop
   * producing the body). The response is complete when the handler returns. */
  wfp_status (*respond_append)(wfp_call *call, wfp_str chunk);

  /* Since 1.3 (read them only when WFP_HAS_FIELD says so, and they are not null: a host without
   * metrics leaves them null). The host owns the metrics registry and exposes what plugins record
   * beside its own series (wfp-host: GET /metrics, Prometheus text format).
   *
   * register_metric: during init only, from the init thread (WFP_ERR_STATE otherwise). Writes a
   * handle to *out. WFP_ERR_CONFLICT when the name is taken (by the host or another plugin);
   * WFP_ERR_INVALID_ARGUMENT for a bad name, label name, label count or bucket list. */
  wfp_status (*register_metric)(wfp_host *host, const wfp_metric_desc *desc, wfp_metric **out);
  /* Any thread, any time until shutdown, concurrently. `label_values` gives one value per label
   * name, in the registered order (the host copies them); a new combination of values starts a new
   * series, at most 1000 per metric (then WFP_ERR_INVALID_ARGUMENT). metric_add adds `value`
   * (finite, >= 0) to a counter; metric_observe records `value` (finite) in a histogram.
   * WFP_ERR_INVALID_ARGUMENT for the wrong kind, the wrong number of values, or a bad value. */
  wfp_status (*metric_add)(wfp_metric *metric, const wfp_str *label_values, size_t label_count,
                           double value);
  wfp_status (*metric_observe)(wfp_metric *metric, const wfp_str *label_values, size_t label_count,
                               double value);
} wfp_host_api;

/* ---------------------------------------------------------------------------------------------- */
/* The plugin descriptor.                                                                         */
/* ---------------------------------------------------------------------------------------------- */
typedef struct wfp_plugin_v1 {
  uint32_t struct_size;
  uint16_t abi_major;  /* WFP_ABI_VERSION_MAJOR the plugin was built with */
  uint16_t abi_minor;  /* the lowest host minor it needs */
  const char *name;    /* NUL-terminated, static: "backfill" */
  const char *version; /* NUL-terminated, static: "0.1.0" */

  /* Called once, from one thread, before any handler. Registers routes through `host`. The table
   * stays valid until shutdown returns. Returns 0 on success; anything else refuses the plugin, and
   * its shutdown is then not called. *out_state is passed to shutdown. */
  int32_t (*init)(const wfp_host_api *host, void **out_state);

  /* Called once, after every handler call has returned, before the library is unloaded. */
  void (*shutdown)(void *state);
} wfp_plugin_v1;

/* The one symbol a plugin of ABI major 1 exports. Returns a static descriptor; never fails. */
typedef const wfp_plugin_v1 *(*wfp_plugin_entry_v1_fn)(void);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* WFP_PLUGIN_ABI_H_ */
