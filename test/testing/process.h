// Child processes for the tests and programs that drive the real `jcmreg` binary (the system
// tests' kill -9 loop, the soak in bench/): spawn with an environment, run to completion, a free
// loopback port.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <map>
#include <string>
#include <vector>

extern char** environ;

namespace registry::testing {

using Env = std::map<std::string, std::string>;

// Starts argv with this process's environment plus `env` (which wins). With `out_fd`, the
// child's stdout is a pipe and *out_fd its read end; with `log_path`, its stdout and stderr are
// appended to that file instead. Returns the child's pid, or -1.
inline pid_t Spawn(const std::vector<std::string>& argv, const Env& env, int* out_fd,
                   const std::string& log_path = "") {
  std::vector<std::string> vars;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string var = *e;
    if (!env.count(var.substr(0, var.find('=')))) vars.push_back(var);
  }
  for (const auto& [name, value] : env) vars.push_back(name + "=" + value);
  std::vector<char*> envp, args;
  for (std::string& v : vars) envp.push_back(v.data());
  envp.push_back(nullptr);
  std::vector<std::string> copy = argv;
  for (std::string& a : copy) args.push_back(a.data());
  args.push_back(nullptr);
  int fds[2] = {-1, -1};
  if (out_fd != nullptr && pipe(fds) != 0) return -1;
  const int log_fd = log_path.empty()
                         ? -1
                         : open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (!log_path.empty() && log_fd < 0) return -1;
  const pid_t pid = fork();
  if (pid == 0) {
    if (out_fd != nullptr) {
      dup2(fds[1], STDOUT_FILENO);
      close(fds[0]);
      close(fds[1]);
    } else if (log_fd >= 0) {
      dup2(log_fd, STDOUT_FILENO);
      dup2(log_fd, STDERR_FILENO);
    }
    execve(args[0], args.data(), envp.data());
    _exit(127);
  }
  if (log_fd >= 0) close(log_fd);
  if (out_fd != nullptr) {
    close(fds[1]);
    *out_fd = fds[0];
  }
  return pid;
}

struct RunResult {
  int code = -1;  // The exit code; -1 when it could not start or did not exit normally.
  std::string out;
};

// Runs argv to its end and returns its exit code and its stdout.
inline RunResult Run(const std::vector<std::string>& argv, const Env& env = {}) {
  int fd = -1;
  RunResult result;
  const pid_t pid = Spawn(argv, env, &fd);
  if (pid < 0) return result;
  char buf[4096];
  for (ssize_t n; (n = read(fd, buf, sizeof buf)) > 0;)
    result.out.append(buf, static_cast<size_t>(n));
  close(fd);
  int status = 0;
  waitpid(pid, &status, 0);
  result.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

// A TCP port on 127.0.0.1 that was free a moment ago.
inline int FreePort() {
  const int s = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  bind(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  getsockname(s, reinterpret_cast<sockaddr*>(&addr), &len);
  close(s);
  return ntohs(addr.sin_port);
}

}  // namespace registry::testing
