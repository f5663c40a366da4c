import type TokenInfo from '@rc-ex/core/definitions/TokenInfo';
import { z } from 'zod';

/** OAuth tokens of the signed-in user; times are epoch milliseconds. */
export interface OAuthTokens {
  accessToken: string;
  accessTokenExpiresAt: number;
  /** Null when the platform issued no refresh token; the user then signs in again at expiry. */
  refreshToken: string | null;
  refreshTokenExpiresAt: number | null;
  /** Extension id of the token owner. */
  ownerId: string | null;
}

/**
 * Schema of the `POST /restapi/oauth/token` response. Only the fields the app uses
 * are checked, and the `satisfies` clause keeps their names equal to those of
 * RingCentral's `TokenInfo`. Other fields are ignored.
 */
export const tokenResponseSchema = z.object({
  access_token: z.string().min(1),
  token_type: z.string().optional(),
  expires_in: z.number().positive(),
  refresh_token: z.string().min(1).optional(),
  refresh_token_expires_in: z.number().positive().optional(),
  owner_id: z.union([z.string(), z.number()]).transform(String).optional(),
} satisfies { [K in keyof TokenInfo]?: z.ZodType });

export type TokenResponse = z.infer<typeof tokenResponseSchema>;

/** Converts a token response received at `receivedAt` (epoch ms) into `OAuthTokens`. */
export function tokensFromResponse(response: TokenResponse, receivedAt: number): OAuthTokens {
  const hasRefreshToken = response.refresh_token !== undefined;

  return {
    accessToken: response.access_token,
    accessTokenExpiresAt: receivedAt + response.expires_in * 1000,
    refreshToken: response.refresh_token ?? null,
    refreshTokenExpiresAt:
      hasRefreshToken && response.refresh_token_expires_in !== undefined
        ? receivedAt + response.refresh_token_expires_in * 1000
        : null,
    ownerId: response.owner_id ?? null,
  };
}

/**
 * The keychain entry of a session: the tokens plus the server and client id they
 * were issued for, so a token is never sent to another server or app.
 */
export const storedSessionSchema = z.object({
  version: z.literal(1),
  baseUrl: z.string().min(1),
  clientId: z.string(),
  tokens: z.object({
    accessToken: z.string().min(1),
    accessTokenExpiresAt: z.number(),
    refreshToken: z.string().min(1).nullable(),
    refreshTokenExpiresAt: z.number().nullable(),
    ownerId: z.string().nullable(),
  }),
});

export type StoredSession = z.infer<typeof storedSessionSchema>;
