#include "runtime/providers/curl_client.hpp"

#include <chrono>
#include <mutex>

#include <curl/curl.h>

namespace engram::providers {

void curl_global_setup() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

namespace {

size_t on_body(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

// Keeps Retry-After (the only response header the client acts on).
size_t on_header(char* data, size_t size, size_t n, void* out) {
  std::string_view line{data, size * n};
  constexpr std::string_view name = "retry-after:";
  if (line.size() > name.size()) {
    bool match = true;
    for (size_t i = 0; i < name.size() && match; ++i)
      match = static_cast<char>(std::tolower(static_cast<unsigned char>(
                line[i])))
              == name[i];
    if (match) {
      auto v = line.substr(name.size());
      while (!v.empty() && (v.front() == ' ' || v.front() == '\t'))
        v.remove_prefix(1);
      while (!v.empty() && (v.back() == '\r' || v.back() == '\n'
                            || v.back() == ' '))
        v.remove_suffix(1);
      *static_cast<std::string*>(out) = std::string{v};
    }
  }
  return size * n;
}

} // namespace

curl_client::curl_client() : handle_(nullptr) {
  curl_global_setup();
  handle_ = curl_easy_init();
}

curl_client::~curl_client() {
  if (handle_)
    curl_easy_cleanup(static_cast<CURL*>(handle_));
}

http_result curl_client::post(const http_call& call) {
  http_result r;
  auto* h = static_cast<CURL*>(handle_);
  if (!h) {
    r.error = "libcurl could not create a handle";
    return r;
  }
  // Reset per-call options but keep the connection cache of the handle.
  curl_easy_reset(h);
  curl_slist* headers = nullptr;
  headers = curl_slist_append(headers, "Content-Type: application/json");
  headers = curl_slist_append(headers, "Accept: application/json");
  for (auto& line : call.headers)
    headers = curl_slist_append(headers, line.c_str());
  curl_easy_setopt(h, CURLOPT_URL, call.url.c_str());
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(h, CURLOPT_POST, 1L);
  curl_easy_setopt(h, CURLOPT_POSTFIELDS, call.body.data());
  curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
                   static_cast<curl_off_t>(call.body.size()));
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(call.timeout_ms));
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(std::min<uint32_t>(call.timeout_ms, 10000)));
  // Threads + timeouts: no SIGALRM-based DNS timeouts.
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &r.body);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &r.retry_after);
  curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
  curl_easy_setopt(h, CURLOPT_USERAGENT, "engram");
  auto t0 = std::chrono::steady_clock::now();
  auto rc = curl_easy_perform(h);
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now()
                                            - t0)
                .count();
  if (rc == CURLE_OK) {
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r.status);
  } else {
    r.status = 0;
    r.timed_out = rc == CURLE_OPERATION_TIMEDOUT;
    r.error = curl_easy_strerror(rc);
    r.body.clear();
  }
  curl_slist_free_all(headers);
  return r;
}

} // namespace engram::providers
