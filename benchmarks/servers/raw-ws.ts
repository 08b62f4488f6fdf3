// Raw `ws`: every socket subscribed; the frame built once per message (or, with
// `--stringify`, once per socket, as naive code does). With `--rooms`, see `Rooms`.
import { WebSocketServer, type WebSocket } from 'ws';
import { messageOf, ROOMS, Rooms, serve } from './common.js';

const perSocket = process.argv.includes('--stringify');
const sockets = new Set<WebSocket>();
const rooms = ROOMS === undefined ? undefined : new Rooms<WebSocket>(ROOMS);
const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: false });
wss.on('connection', (socket) => {
  sockets.add(socket);
  rooms?.add(socket);
  socket.on('close', () => sockets.delete(socket));
  socket.send('{"subscribed":true}');
});
wss.on('listening', () => {
  const { port } = wss.address() as { port: number };
  serve(port, (i) => {
    const message = messageOf(i);
    if (rooms !== undefined) {
      const frame = JSON.stringify({ type: 'message', data: message });
      for (const socket of rooms.room(i)) socket.send(frame);
      rooms.personal(i).send(JSON.stringify({ type: 'message', data: message }));
      return;
    }
    if (perSocket) for (const socket of sockets) socket.send(JSON.stringify({ type: 'message', data: message }));
    else {
      const frame = JSON.stringify({ type: 'message', data: message });
      for (const socket of sockets) socket.send(frame);
    }
  });
});
