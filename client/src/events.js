// The events of a handle: warn, active, expire, state and connection.

// createEmitter returns listeners by event type. A listener that throws
// does not stop the others or the client: its error is thrown again on
// its own, where the page's error reporting sees it.
export function createEmitter() {
  const listeners = {};
  return {
    on(type, listener) {
      (listeners[type] = listeners[type] || new Set()).add(listener);
    },
    off(type, listener) {
      if (listeners[type]) listeners[type].delete(listener);
    },
    emit(type, detail) {
      for (const listener of [...(listeners[type] || [])]) {
        try {
          listener(detail);
        } catch (error) {
          setTimeout(() => {
            throw error;
          });
        }
      }
    },
  };
}
