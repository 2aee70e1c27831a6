/* presence.js: placeholder until the client lands */
