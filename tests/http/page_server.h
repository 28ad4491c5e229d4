// PageServer: the browser tests' own origin. A small HTTP/1.1 server on an ephemeral loopback
// port, on one Asio thread, that serves one page at GET / and keeps the body of every
// POST /report. The page reports to the origin it came from, so the report path needs no CORS,
// while rsvpd is another origin and the browser applies CORS to it.
//
// Every answer carries "Connection: close": one request per connection keeps the server free
// of keep-alive state, and the browser simply opens a new connection for the next report.
#pragma once

#include <boost/asio.hpp>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <istream>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace rsvpd::http::testing {

// Bounds on what the server reads from one connection: a page's reports are small, and a bound
// keeps a confused client from growing the test without limit.
inline constexpr size_t kPageServerHeadBytesMax = 16 * 1024;
inline constexpr size_t kPageServerBodyBytesMax = 64 * 1024;

class PageServer {
 public:
  explicit PageServer(std::string page_html)
      : page_html_(std::move(page_html)),
        acceptor_(io_, {boost::asio::ip::address_v4::loopback(), 0}) {
    port_ = acceptor_.local_endpoint().port();
    accept();
    thread_ = std::thread([this] { io_.run(); });
  }
  ~PageServer() {
    io_.stop();
    thread_.join();
  }
  PageServer(const PageServer&) = delete;
  PageServer& operator=(const PageServer&) = delete;

  uint16_t port() const { return port_; }
  // The origin a page served from here has, as the browser spells it in `Origin:`.
  std::string origin() const { return "http://127.0.0.1:" + std::to_string(port_); }

  // The bodies of POST /report so far, in arrival order.
  std::vector<std::string> reports() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return reports_;
  }
  // Every request line served so far (for failure messages).
  std::vector<std::string> requests() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return requests_;
  }

  // Waits until `done(reports)` holds. Gives up, returning false, when `still_running()` turns
  // false (the browser died: no report will come) or after `limit`, a bound against a hang that
  // decides nothing on its own: the caller's assertions on the reports do.
  bool wait_for(const std::function<bool(const std::vector<std::string>&)>& done,
                const std::function<bool()>& still_running, std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    std::unique_lock<std::mutex> lock(mutex_);
    while (!done(reports_)) {
      if (std::chrono::steady_clock::now() >= deadline || !still_running()) return false;
      // Wakes on every report; the timeout only serves to look at still_running().
      arrived_.wait_for(lock, std::chrono::milliseconds(100));
    }
    return true;
  }

 private:
  using Tcp = boost::asio::ip::tcp;

  struct Connection {
    explicit Connection(boost::asio::io_context& io)
        : socket(io), buffer(kPageServerHeadBytesMax + kPageServerBodyBytesMax) {}
    Tcp::socket socket;
    boost::asio::streambuf buffer;
    std::string request_line;
    std::string answer;
  };

  void accept() {
    auto connection = std::make_shared<Connection>(io_);
    acceptor_.async_accept(connection->socket, [this, connection](boost::system::error_code ec) {
      if (ec) return;  // Only when the io_context stops.
      read_head(connection);
      accept();
    });
  }

  void read_head(const std::shared_ptr<Connection>& connection) {
    boost::asio::async_read_until(
        connection->socket, connection->buffer, "\r\n\r\n",
        [this, connection](boost::system::error_code ec, size_t head_bytes) {
          if (ec) return;  // A preconnect that never sent a request, or a head too large.
          std::string head(head_bytes, '\0');
          connection->buffer.sgetn(head.data(), static_cast<std::streamsize>(head_bytes));
          connection->request_line = head.substr(0, head.find("\r\n"));
          const size_t body_bytes = content_length(head);
          if (body_bytes > kPageServerBodyBytesMax) return;
          const size_t buffered = connection->buffer.size();
          const size_t missing = body_bytes > buffered ? body_bytes - buffered : 0;
          boost::asio::async_read(
              connection->socket, connection->buffer, boost::asio::transfer_exactly(missing),
              [this, connection, body_bytes](boost::system::error_code read_ec, size_t) {
                if (read_ec) return;
                std::string body(body_bytes, '\0');
                connection->buffer.sgetn(body.data(), static_cast<std::streamsize>(body_bytes));
                answer(connection, std::move(body));
              });
        });
  }

  void answer(const std::shared_ptr<Connection>& connection, std::string body) {
    const std::string& line = connection->request_line;
    int status = 404;
    std::string content_type = "text/plain; charset=utf-8";
    std::string content = "not found\n";
    if (line.rfind("GET / ", 0) == 0 || line.rfind("GET /?", 0) == 0) {
      status = 200;
      content_type = "text/html; charset=utf-8";
      content = page_html_;
    } else if (line.rfind("POST /report ", 0) == 0) {
      status = 204;
      content.clear();
    }
    {
      std::lock_guard<std::mutex> lock(mutex_);
      requests_.push_back(line);
      if (status == 204) reports_.push_back(std::move(body));
    }
    arrived_.notify_all();
    std::string& text = connection->answer;
    text = status == 200   ? "HTTP/1.1 200 OK\r\n"
           : status == 204 ? "HTTP/1.1 204 No Content\r\n"
                           : "HTTP/1.1 404 Not Found\r\n";
    text += "Cache-Control: no-store\r\nConnection: close\r\n";
    // A 204 has no content and must not announce a length (RFC 9110, 8.6).
    if (status != 204) {
      text += "Content-Type: " + content_type +
              "\r\nContent-Length: " + std::to_string(content.size()) + "\r\n";
    }
    text += "\r\n" + content;
    boost::asio::async_write(connection->socket, boost::asio::buffer(connection->answer),
                             [connection](boost::system::error_code, size_t) {
                               boost::system::error_code ignored;
                               connection->socket.shutdown(Tcp::socket::shutdown_both, ignored);
                               connection->socket.close(ignored);
                             });
  }

  // The Content-Length of a request head; 0 when absent (GET) or unreadable.
  static size_t content_length(const std::string& head) {
    std::string lower = head;
    for (char& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    const size_t at = lower.find("\r\ncontent-length:");
    if (at == std::string::npos) return 0;
    try {
      return std::stoul(lower.substr(at + 17));
    } catch (const std::exception&) {
      return 0;
    }
  }

  const std::string page_html_;
  boost::asio::io_context io_;
  Tcp::acceptor acceptor_;
  uint16_t port_ = 0;
  std::thread thread_;

  mutable std::mutex mutex_;
  std::condition_variable arrived_;
  std::vector<std::string> reports_;
  std::vector<std::string> requests_;
};

}  // namespace rsvpd::http::testing
