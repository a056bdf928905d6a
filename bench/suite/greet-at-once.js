/**
 * Makes an smtp-server greet each new connection at once: its `init` would wait a fixed 100 ms (to catch
 * early talkers) before `connectionReady`, which sends the 220. The bench's bare baselines use it so that
 * they greet like every other server in the bench. A client that talks before the 220 still gets
 * smtp-server's `421 You talk too soon` (the greeting itself is asynchronous).
 */
export function greetAtOnce(smtp) {
  const add = smtp.connections.add.bind(smtp.connections);
  smtp.connections.add = (connection) => {
    if (typeof connection._setListeners !== 'function' || typeof connection.connectionReady !== 'function') {
      throw new Error('smtp-server changed: connection._setListeners/connectionReady not found');
    }
    connection.init = () => connection._setListeners(() => connection.connectionReady());
    return add(connection);
  };
}
