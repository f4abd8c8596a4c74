/** Error texts sent in acknowledgements and handshake refusals. Small factories, one place. */
export const UNAUTHENTICATED = 'Unauthenticated: no valid credential in the handshake.';
export const ORIGIN_NOT_ALLOWED = (origin: string) => `Origin ${origin} is not allowed.`;
export const MALFORMED_MESSAGE = 'Malformed message: expected { channel: string }.';
export const CHANNEL_TOO_LONG = (max: number) => `Channel names are at most ${max} characters.`;
export const UNKNOWN_CHANNEL = (prefix: string) => `Unknown channel: expected "${prefix}.{userId}" or "${prefix}.tenant.{tenantId}".`;
export const FORBIDDEN_CHANNEL = 'Forbidden: this socket may only join its own user and tenant channels.';
export const TOO_MANY_CHANNELS = (max: number) => `A socket may be in at most ${max} channels.`;
export const RATE_LIMITED = 'Too many subscribe/unsubscribe messages; slow down.';
export const SNAPSHOT_FAILED = 'Could not read the channel state; try again.';
export const PUBLIC_ROOMS = (namespace: string) =>
  `Socket rooms on ${namespace} are public: any client that knows or guesses an owner or tenant id can follow its jobs. Set broadcasting.authenticate (rooms are then private) unless every job's progress is public.`;
export const NOT_AN_OPERATOR = 'Forbidden: operator.authorize refused this handshake.';
