#pragma once
// One blocking HTTP client over a libcurl easy handle. The handle is reused
// for every call, so libcurl keeps the connection (and TLS session) alive
// between calls; proxies come from the usual environment variables
// (http_proxy, https_proxy, no_proxy), which libcurl reads itself.
// Blocking: only for detached actors (actors/http_worker) and tools.

#include <cstdint>
#include <string>
#include <vector>

namespace engram::providers {

struct http_call {
  std::string url;
  std::vector<std::string> headers; // "Name: value"
  std::string body;                 // POSTed as application/json
  uint32_t timeout_ms = 60000;
};

struct http_result {
  long status = 0;          // 0 when no response arrived
  std::string body;
  std::string retry_after;  // the Retry-After header, if any
  std::string error;        // transport failure; empty when a status arrived
  bool timed_out = false;
  double seconds = 0;       // wall time of the call

  bool transport_failed() const { return status == 0; }
};

/// Once per process, before any thread uses libcurl.
void curl_global_setup();

class curl_client {
public:
  curl_client();
  ~curl_client();
  curl_client(const curl_client&) = delete;
  curl_client& operator=(const curl_client&) = delete;

  http_result post(const http_call& call);

private:
  void* handle_;
};

} // namespace engram::providers
