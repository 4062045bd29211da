"""A TCP proxy that puts faults between Atrium and its remote store, for
tests and `make bench-tiers`: added latency per request, 503 SlowDown
answers, reset connections, and an outage (connections refused).

    p = FaultProxy(target_port).start()
    p.delay_ms = 20          # each request waits 20 ms before it goes on
    p.mode = "503"           # answer every new request 503 SlowDown
    p.mode = "reset"         # close each new connection at once
    p.mode = "down"          # stop listening (connection refused)
    p.mode = "pass"          # back to normal
    p.requests               # requests seen (an HTTP request head each)
    p.ranges                 # (first, last) of each Range: bytes=a-b header seen
    p.most_delayed           # most requests held in the delay at once
    p.stop()

A request is counted at each "HTTP/1.1\\r\\n" request line the client
sends, so keep-alive connections count every request on them. Loopback
only; every thread is a daemon and stop() closes every socket it opened.
"""
import re
import socket
import threading
import time


class FaultProxy:
    def __init__(self, target_port, target_host="127.0.0.1"):
        self.target = (target_host, target_port)
        self.delay_ms = 0
        self._mode = "pass"
        self.requests = 0
        self.ranges = []
        self.most_delayed = 0
        self._delayed = 0
        self._lock = threading.Lock()
        self._socks = set()
        self._listener = None
        self.port = None
        self._stopped = False

    # -- lifecycle -----------------------------------------------------------
    def start(self):
        self._listen(0)
        return self

    def _listen(self, port):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", port))
        s.listen(128)
        self.port = s.getsockname()[1]
        self._listener = s
        threading.Thread(target=self._accept, args=(s,), daemon=True).start()

    def stop(self):
        self._stopped = True
        self._close_listener()
        with self._lock:
            socks, self._socks = list(self._socks), set()
        for s in socks:
            _close(s)

    def _close_listener(self):
        if self._listener is not None:
            _close(self._listener)
            self._listener = None

    @property
    def mode(self):
        return self._mode

    @mode.setter
    def mode(self, m):
        assert m in ("pass", "503", "reset", "down")
        if m == "down" and self._listener is not None:
            self._close_listener()
            with self._lock:  # open connections go down too
                socks, self._socks = list(self._socks), set()
            for s in socks:
                _close(s)
        elif m != "down" and self._listener is None and not self._stopped:
            self._listen(self.port)
        self._mode = m

    # -- the work ------------------------------------------------------------
    def _track(self, s):
        with self._lock:
            self._socks.add(s)

    def _accept(self, listener):
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            self._track(client)
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client):
        if self._mode == "reset":
            client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            _close(client)
            return
        if self._mode == "503":
            self._answer_503(client)
            return
        try:
            server = socket.create_connection(self.target, timeout=30)
        except OSError:
            _close(client)
            return
        self._track(server)
        threading.Thread(target=self._pump, args=(server, client, False), daemon=True).start()
        self._pump(client, server, True)

    def _answer_503(self, client):
        body = (b"<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>SlowDown</Code>"
                b"<Message>Please reduce your request rate.</Message></Error>")
        try:
            client.settimeout(5)
            client.recv(65536)
            with self._lock:
                self.requests += 1
            client.sendall(b"HTTP/1.1 503 Slow Down\r\nContent-Type: application/xml\r\n"
                           b"Connection: close\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
        except OSError:
            pass
        _close(client)

    def _pump(self, src, dst, from_client):
        try:
            while True:
                data = src.recv(262144)
                if not data:
                    break
                if from_client:
                    n = data.count(b" HTTP/1.1\r\n")
                    if n:
                        got = [(int(a), int(b)) for a, b in _RANGE.findall(data)]
                        with self._lock:
                            self.requests += n
                            self.ranges += got
                        if self.delay_ms:
                            with self._lock:
                                self._delayed += 1
                                self.most_delayed = max(self.most_delayed, self._delayed)
                            time.sleep(self.delay_ms / 1000.0)  # the injected latency
                            with self._lock:
                                self._delayed -= 1
                dst.sendall(data)
        except OSError:
            pass
        try:
            dst.shutdown(socket.SHUT_WR)
        except OSError:
            pass


_RANGE = re.compile(rb"\r\nrange: bytes=(\d+)-(\d+)\r\n", re.I)


def _close(s):
    # shutdown first: a plain close() leaves a connection another thread
    # is blocked reading from alive (the kernel keeps it until that recv
    # returns), so "down" would not cut a client's keep-alive connection.
    try:
        s.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    try:
        s.close()
    except OSError:
        pass
