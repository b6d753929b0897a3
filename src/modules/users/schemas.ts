import { Type } from '@sinclair/typebox';
import { Envelope } from '../../http/schemas.ts';
import { AccessRoleSchema, UserDto } from '../auth/schemas.ts';

export const CreateUserBody = Type.Object(
  {
    email: Type.String({ format: 'email', maxLength: 320 }),
    password: Type.String({ maxLength: 1024 }),
    fullName: Type.String({ maxLength: 200 }),
    accessRole: AccessRoleSchema,
  },
  { additionalProperties: false },
);

export const UserResponse = Envelope(UserDto);
export const UserListResponse = Envelope(Type.Array(UserDto));
export const ApiKeyResponse = Envelope(Type.Object({ apiKey: Type.String() }));
