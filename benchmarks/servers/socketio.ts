// Socket.IO 4: every socket joins one room; `io.to(room).emit` encodes the packet once
// and hands the same frame to every socket (its own broadcast path), over WebSocket only.
import { createServer } from 'node:http';
import { Server } from 'socket.io';
import { messageOf, serve } from './common.js';

const http = createServer();
const io = new Server(http, {
  transports: ['websocket'],
  perMessageDeflate: false,
  httpCompression: false,
  // No heartbeats during a run: the generator does not answer them.
  pingInterval: 600_000,
  pingTimeout: 600_000,
});
io.on('connection', (socket) => void socket.join('room'));
http.listen(0, '127.0.0.1', () => {
  const { port } = http.address() as { port: number };
  serve(port, (i) => void io.to('room').emit('message', messageOf(i)));
});
