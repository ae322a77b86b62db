// The metrics registry's text exposition (Prometheus text format 0.0.4).
#include <catch2/catch.hpp>

#include "medallion/core/metrics.h"

using medallion::metrics::Registry;

TEST_CASE("metrics: counters, gauges and histograms render in the text format", "[metrics]") {
  Registry r;
  r.Add("t_requests_total", "Requests", {{"route", "/a"}, {"status", "200"}});
  r.Add("t_requests_total", "Requests", {{"route", "/a"}, {"status", "200"}}, 2);
  r.Add("t_requests_total", "Requests", {{"route", "/b"}, {"status", "404"}});
  r.Set("t_size", "Size", {}, 42);
  r.AddGauge("t_open", "Open", {}, 3);
  r.AddGauge("t_open", "Open", {}, -1);
  r.Observe("t_latency_seconds", "Latency", {{"route", "/a"}}, 0.003, {0.001, 0.01, 0.1});
  r.Observe("t_latency_seconds", "Latency", {{"route", "/a"}}, 0.5, {0.001, 0.01, 0.1});
  r.Observe("t_latency_seconds", "Latency", {{"route", "/a"}}, 0.001, {0.001, 0.01, 0.1});
  const std::string text = r.Render();
  CHECK(text.find("# HELP t_requests_total Requests\n# TYPE t_requests_total counter\n") !=
        std::string::npos);
  CHECK(text.find("t_requests_total{route=\"/a\",status=\"200\"} 3\n") != std::string::npos);
  CHECK(text.find("t_requests_total{route=\"/b\",status=\"404\"} 1\n") != std::string::npos);
  CHECK(text.find("# TYPE t_size gauge\nt_size 42\n") != std::string::npos);
  CHECK(text.find("t_open 2\n") != std::string::npos);
  // Buckets are cumulative, `le` is inclusive, +Inf counts everything.
  CHECK(text.find("# TYPE t_latency_seconds histogram\n") != std::string::npos);
  CHECK(text.find("t_latency_seconds_bucket{route=\"/a\",le=\"0.001\"} 1\n") != std::string::npos);
  CHECK(text.find("t_latency_seconds_bucket{route=\"/a\",le=\"0.01\"} 2\n") != std::string::npos);
  CHECK(text.find("t_latency_seconds_bucket{route=\"/a\",le=\"0.1\"} 2\n") !=
        std::string::npos);
  CHECK(text.find("t_latency_seconds_bucket{route=\"/a\",le=\"+Inf\"} 3\n") != std::string::npos);
  CHECK(text.find("t_latency_seconds_count{route=\"/a\"} 3\n") != std::string::npos);
  CHECK(r.Value("t_latency_seconds", {{"route", "/a"}}) == 3);
  CHECK(r.Value("t_requests_total", {{"route", "/a"}, {"status", "200"}}) == 3);
  CHECK(r.Value("t_absent", {}) == 0);
  // Families come out sorted by name.
  CHECK(text.find("t_latency_seconds") < text.find("t_open"));
  CHECK(text.find("t_open") < text.find("t_requests_total"));
}

TEST_CASE("metrics: label values and help are escaped; gauge functions are read at render",
          "[metrics]") {
  Registry r;
  r.Add("t_x_total", "Help with \\ and\nnewline", {{"v", "a\"b\\c\nd"}});
  int calls = 0;
  r.GaugeFunction("t_live", "Live", {}, [&] { return static_cast<double>(++calls); });
  std::string text = r.Render();
  CHECK(text.find("# HELP t_x_total Help with \\\\ and\\nnewline\n") != std::string::npos);
  CHECK(text.find("t_x_total{v=\"a\\\"b\\\\c\\nd\"} 1\n") != std::string::npos);
  CHECK(text.find("t_live 1\n") != std::string::npos);
  text = r.Render();
  CHECK(text.find("t_live 2\n") != std::string::npos);
  r.Remove("t_live", {});
  CHECK(r.Render().find("t_live") == std::string::npos);
}
