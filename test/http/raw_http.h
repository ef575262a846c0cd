// Raw HTTP over a TCP socket on 127.0.0.1, for what an HTTP client library will not send (a
// malformed head, a chunked body, pipelined requests, a byte at a time) or read (an answer to a
// connection it keeps open).
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <string_view>

namespace registry::http::raw {

class RawConnection {
 public:
  explicit RawConnection(int port, int timeout_ms = 10000) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~RawConnection() {
    if (fd_ >= 0) ::close(fd_);
  }
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  bool connected() const { return connected_; }

  // Sends every byte; false when the connection is gone.
  bool Send(std::string_view bytes) {
    while (!bytes.empty()) {
      const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      bytes.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  // Reads one answer: its head and as many body bytes as its Content-Length says (or up to the
  // close without one). Empty when the connection closes (or times out) before a whole head.
  std::string ReadAnswer() {
    for (;;) {
      const size_t head_end = buffer_.find("\r\n\r\n");
      if (head_end != std::string::npos) {
        size_t length = 0;
        const std::string head = buffer_.substr(0, head_end);
        const size_t at = head.find("Content-Length: ");
        if (at != std::string::npos) length = std::strtoull(head.c_str() + at + 16, nullptr, 10);
        const size_t whole = head_end + 4 + length;
        if (buffer_.size() >= whole) {
          std::string answer = buffer_.substr(0, whole);
          buffer_.erase(0, whole);
          return answer;
        }
      }
      if (!ReadMore()) return "";
    }
  }

  // True when the server closes the connection (EOF or a reset) before the read timeout,
  // discarding whatever it still sends.
  bool ClosedByServer() {
    for (;;) {
      char chunk[4096];
      const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
      if (n == 0) return true;
      if (n < 0) return errno == ECONNRESET;
    }
  }

  int fd() const { return fd_; }

 private:
  bool ReadMore() {
    char chunk[65536];
    const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n <= 0) return false;
    buffer_.append(chunk, static_cast<size_t>(n));
    return true;
  }

  int fd_ = -1;
  bool connected_ = false;
  std::string buffer_;
};

// The status code of a raw answer ("HTTP/1.1 404 Not Found..." -> 404), 0 when there is none.
inline int StatusOf(const std::string& answer) {
  if (answer.compare(0, 9, "HTTP/1.1 ") != 0 || answer.size() < 12) return 0;
  return std::atoi(answer.substr(9, 3).c_str());
}

// The body of a raw answer.
inline std::string BodyOf(const std::string& answer) {
  const size_t at = answer.find("\r\n\r\n");
  return at == std::string::npos ? "" : answer.substr(at + 4);
}

// The value of header `name` in a raw answer ("" when absent).
inline std::string HeaderOf(const std::string& answer, const std::string& name) {
  const std::string head = answer.substr(0, answer.find("\r\n\r\n"));
  const size_t at = head.find("\r\n" + name + ": ");
  if (at == std::string::npos) return "";
  const size_t from = at + 4 + name.size();
  return head.substr(from, head.find("\r\n", from) - from);
}

}  // namespace registry::http::raw
