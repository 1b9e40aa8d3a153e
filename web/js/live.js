// Live updates: one GraphQL subscription over a WebSocket to /graphql, spoken in the
// graphql-transport-ws protocol (the server's schema/websocket.py; docs/api.md#subscriptions).
// The session is the same HttpOnly cookie as for graphql(): the browser sends it with the
// handshake of a same-origin socket, so connection_init carries no token.
//
//   const stop = subscribe(PAYMENT_UPDATED, { id }, {
//     next: (data) => show(data.onlinePaymentUpdated),
//     failed: () => startPolling(),   // refused, closed, or an error before it was done
//   });
//   stop();  // complete the subscription and close the socket
//
// `failed` is called at most once, and never after stop(): the caller falls back to asking
// over HTTP (a proxy that does not pass WebSocket upgrades, a session that ended).

const PROTOCOL = 'graphql-transport-ws';

function socketUrl() {
  const scheme = window.location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${window.location.host}/graphql`;
}

export function subscribe(query, variables, { next, failed }) {
  let finished = false;
  let socket;
  const finish = (why) => {
    if (finished) return;
    finished = true;
    try {
      socket.close(1000);
    } catch {
      // already closed
    }
    if (why && failed) failed(why);
  };
  try {
    socket = new WebSocket(socketUrl(), PROTOCOL);
  } catch (error) {
    finished = true;
    if (failed) setTimeout(() => failed(error), 0);
    return () => {};
  }
  const send = (message) => socket.send(JSON.stringify(message));
  socket.onopen = () => send({ type: 'connection_init', payload: {} });
  socket.onmessage = (event) => {
    let message;
    try {
      message = JSON.parse(event.data);
    } catch {
      finish('invalid message');
      return;
    }
    switch (message.type) {
      case 'connection_ack':
        send({ type: 'subscribe', id: '1', payload: { query, variables } });
        break;
      case 'ping':
        send({ type: 'pong' });
        break;
      case 'next':
        if (!finished && message.payload && message.payload.data) next(message.payload.data);
        break;
      case 'error':
        finish('error');
        break;
      case 'complete':
        finish(null);
        break;
      default:
        break;
    }
  };
  socket.onclose = () => finish('closed');
  return () => {
    if (finished) return;
    try {
      send({ type: 'complete', id: '1' });
    } catch {
      // not open yet or gone: closing is enough
    }
    finish(null);
  };
}
