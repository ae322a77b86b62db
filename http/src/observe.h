// What every served request leaves for an operator: a Prometheus sample (requests by route,
// method and status; latency by route and method) and one structured JSON log line on stderr
// (time, request id, method, route, status, latency). The route is a template of the path
// (RouteTemplate), never the path itself: paths carry container names, DIDs and ids.
//
// ConfigureServer (http.cpp) calls BeginRequest from the pre-routing step, EndRequest from the
// logger and LogInternalError from the exception handler; all run on the worker thread that
// serves the request, which is how they find the request's context (thread-local). A server
// replayed inside another one's handler (roles' MountedRoutes) is part of the outer request.
#pragma once

#include <string>
#include <string_view>

namespace httplib {
struct Request;
struct Response;
}  // namespace httplib

namespace medallion::http {

// Registers, once per process, the gauges every server shows: process_resident_memory_bytes,
// process_open_fds and medallion_open_databases (open SQLite database files, counted from
// /proc/self/fd at each scrape).
void RegisterProcessMetrics();

// Starts the request's context (request id, start time) and sets X-Request-Id on the response.
// Answers GET /metrics itself (returns true) for a top-level request: to a loopback client, or
// to one presenting `Authorization: Bearer $MEDALLION_METRICS_TOKEN` when that is set; anyone
// else gets 403 access_denied.
bool BeginRequest(const httplib::Request& req, httplib::Response& res);

// Records the finished request (metrics, log line) and ends its context.
void EndRequest(const httplib::Request& req, const httplib::Response& res);

// The request reached no route (the error handler answered a 404/405 no handler wrote): it is
// recorded under the route "(unmatched)", so that a scan of random paths adds no series.
void MarkUnmatched();

// The current request's id (16 hex digits), or "-" outside a request.
std::string CurrentRequestId();

// Logs an exception that became a 500 (kind and message cut to 200 bytes) with the request id.
void LogInternalError(std::string_view what);

// The path as a route template: a segment is kept when it looks like a fixed word of an API
// (lower-case letters, digits, '.', '-', '_', at most 24 bytes, starting with a letter or '.',
// fewer than 4 digits) or a CamelCase type name of letters only ("MedicationRequest"), and
// becomes ":id" otherwise; the segment after a leading "c" (a hosted
// container's name) is always ":name". "/c/alice/uma/ticket/Xy9..." → "/c/:name/uma/ticket/:id".
std::string RouteTemplate(std::string_view path);

}  // namespace medallion::http
