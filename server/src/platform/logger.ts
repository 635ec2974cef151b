import pino from "pino";

// Tokens never reach a log line: the authorization header and anything called token are
// redacted wherever they appear in a logged object.
export function createLogger(level: string, name = "ouro") {
  return pino({
    name,
    level,
    redact: {
      paths: [
        "req.headers.authorization",
        "headers.authorization",
        "authorization",
        "token",
        "*.token",
        "connectionParams.authorization",
        "connectionParams.token",
      ],
      censor: "[redacted]",
    },
  });
}

export type Logger = ReturnType<typeof createLogger>;
