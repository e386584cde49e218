# Seed-style server, as in the course exercise: a blocking socket, accepts one
# connection, sends "hi" with NO newline, then prints whatever it receives with
# s.recv(1024) until the peer closes.
#
#   python3 seed_server.py [PORT]      (PORT 0 = any; the port is printed)
import socket
import sys

HOST = "127.0.0.1"
PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 6666

s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((HOST, PORT))
s.listen(1)
print("port", s.getsockname()[1], flush=True)
conn, addr = s.accept()
conn.send("hi".encode())
while True:
    data = conn.recv(1024)
    if not data:
        break
    print(data.decode(), flush=True)
conn.close()
s.close()
