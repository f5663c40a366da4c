import type GetExtensionInfoResponse from '@rc-ex/core/definitions/GetExtensionInfoResponse';
import { z } from 'zod';

import type { SignedInUser } from '../shared/app-state';
import type { BearerTokenSource, PlatformClient } from './platform-client';

export const EXTENSION_INFO_PATH = '/restapi/v1.0/account/~/extension/~';

const extensionInfoSchema = z.object({
  id: z.union([z.string(), z.number()]).optional(),
  name: z.string().optional(),
  extensionNumber: z.string().optional(),
  contact: z
    .object({
      firstName: z.string().optional(),
      lastName: z.string().optional(),
    })
    .optional(),
} satisfies { [K in keyof GetExtensionInfoResponse]?: z.ZodType });

/** The extension response did not have the expected shape. */
export class InvalidExtensionInfoError extends Error {
  override readonly name = 'InvalidExtensionInfoError';
}

/**
 * Reads the signed-in user's name and extension number from
 * `GET /restapi/v1.0/account/~/extension/~`. The name falls back to the contact's
 * first and last name; a missing extension number becomes an empty string.
 */
export async function fetchSignedInUser(client: PlatformClient, tokens: BearerTokenSource): Promise<SignedInUser> {
  const body = await client.request(tokens, 'GET', EXTENSION_INFO_PATH);

  const parsed = extensionInfoSchema.safeParse(body);
  if (!parsed.success) {
    throw new InvalidExtensionInfoError(
      `${EXTENSION_INFO_PATH} returned a body that is not an extension (${parsed.error.issues
        .map((issue) => issue.path.join('.') || 'body')
        .join(', ')}).`,
    );
  }

  const { name, extensionNumber, contact } = parsed.data;
  const contactName = [contact?.firstName, contact?.lastName].filter((part) => part !== undefined && part !== '').join(' ');
  return {
    name: name?.trim() || contactName,
    extensionNumber: extensionNumber ?? '',
  };
}

/** The keychain entry that caches the user of a session, checked against the token owner on restore. */
export const cachedUserSchema = z.object({
  ownerId: z.string().nullable(),
  user: z.object({ name: z.string(), extensionNumber: z.string() }),
});

export type CachedUser = z.infer<typeof cachedUserSchema>;
