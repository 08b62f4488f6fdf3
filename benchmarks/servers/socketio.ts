// Socket.IO 4: every socket joins one room; `io.to(room).emit` encodes the packet once
// and hands the same frame to every socket (its own broadcast path), over WebSocket only.
// With `--redis <url>`, `@socket.io/redis-adapter`: an emit on one node reaches every node's room.
// With `--rooms`, see `Rooms` (a socket's own room is its personal stream).
import { createServer } from 'node:http';
import { createAdapter } from '@socket.io/redis-adapter';
import { Redis } from 'ioredis';
import { Server } from 'socket.io';
import { messageOf, ROOMS, Rooms, serve } from './common.js';

const http = createServer();
const io = new Server(http, {
  transports: ['websocket'],
  perMessageDeflate: false,
  httpCompression: false,
  // No heartbeats during a run: the generator does not answer them.
  pingInterval: 600_000,
  pingTimeout: 600_000,
});
const at = process.argv.indexOf('--redis');
if (at !== -1) {
  const pub = new Redis(process.argv[at + 1]!);
  io.adapter(createAdapter(pub, pub.duplicate()));
}
const rooms = ROOMS === undefined ? undefined : new Rooms<string>(ROOMS);
io.on('connection', (socket) => void socket.join(rooms === undefined ? 'room' : `r${rooms.add(socket.id)}`));
http.listen(0, '127.0.0.1', () => {
  const { port } = http.address() as { port: number };
  serve(port, (i) => {
    if (rooms === undefined) return void io.to('room').emit('message', messageOf(i));
    io.to(`r${i % ROOMS!}`).emit('message', messageOf(i));
    io.to(rooms.personal(i)).emit('message', messageOf(i));
  });
});
