// The peer Relay Desk is measured against: what a team would build instead from the
// original requirements — Socket.IO 4, two or more instances sharing rooms through
// @socket.io/redis-adapter, rooms + emit. It stores nothing (Relay Desk stores every
// message in PostgreSQL before acknowledging it), so the comparison favours the peer.
//
// Protocol (the load generator speaks it over raw Engine.IO v4 WebSockets):
//   connect with auth {user: <id>}
//   "join" <ticket>                 -> joins room t:<ticket>, answers "joined" <ticket>
//   "send" {ticket, client_id, body} -> "ack" {client_id} to the sender,
//                                       "message" {ticket, client_id, body, user} to the room
//
//   PORT=3001 REDIS_URL=redis://127.0.0.1:6379 node server.js
"use strict";

const http = require("http");
const { Server } = require("socket.io");
const { createAdapter } = require("@socket.io/redis-adapter");
const { createClient } = require("redis");

async function main() {
  const port = Number(process.env.PORT || 3001);
  const pub = createClient({ url: process.env.REDIS_URL || "redis://127.0.0.1:6379" });
  const sub = pub.duplicate();
  await Promise.all([pub.connect(), sub.connect()]);

  const server = http.createServer((req, res) => {
    res.writeHead(req.url === "/healthz" ? 200 : 404, { "content-type": "text/plain" });
    res.end(req.url === "/healthz" ? "ok" : "not found");
  });
  const io = new Server(server, {
    transports: ["websocket"],
    adapter: createAdapter(pub, sub, { key: process.env.REDIS_KEY || "peer" }),
    maxHttpBufferSize: 64 * 1024,
  });

  io.on("connection", (socket) => {
    const user = Number(socket.handshake.auth && socket.handshake.auth.user) || 0;
    socket.on("join", (ticket) => {
      socket.join(`t:${ticket}`);
      socket.emit("joined", ticket);
    });
    socket.on("send", (m) => {
      if (!m || typeof m.body !== "string") return;
      socket.emit("ack", { client_id: m.client_id });
      io.to(`t:${m.ticket}`).emit("message", {
        ticket: m.ticket,
        client_id: m.client_id,
        body: m.body,
        user,
      });
    });
  });

  server.listen(port, "127.0.0.1", () => console.log(`peer listening on ${port}`));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
