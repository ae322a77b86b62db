/* Diagnostic only (bench/run_ledger_http.sh NODELAY=1): an LD_PRELOAD shim that sets
 * TCP_NODELAY on every socket the unmodified `medallion ledger serve` accepts, to measure
 * what the server would do with httplib::Server::set_tcp_nodelay(true). Never shipped. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

int accept(int fd, struct sockaddr* addr, socklen_t* len) {
  static int (*real_accept)(int, struct sockaddr*, socklen_t*);
  if (!real_accept) real_accept = (int (*)(int, struct sockaddr*, socklen_t*))dlsym(RTLD_NEXT, "accept");
  int s = real_accept(fd, addr, len);
  if (s >= 0) {
    int one = 1;
    (void)setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  return s;
}
