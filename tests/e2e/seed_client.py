# Seed-style chat client, as in the course exercise: a blocking socket,
# s.send(text.encode()) with NO newline, s.recv(1024).
# Reads its messages from stdin (one per line) instead of input() prompts.
#
#   python3 seed_client.py HOST PORT
import socket
import sys

HOST = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1"
PORT = int(sys.argv[2]) if len(sys.argv) > 2 else 6666

s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.connect((HOST, PORT))
for line in sys.stdin:
    text = line.rstrip("\n")
    s.send(text.encode())
    data = s.recv(1024)
    print(data.decode())
s.close()
