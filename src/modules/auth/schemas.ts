import { Type } from '@sinclair/typebox';
import { Envelope, Nullable, Timestamp } from '../../http/schemas.ts';

export const AccessRoleSchema = Type.Union([Type.Literal('ADMIN'), Type.Literal('DEPARTMENT_HEAD'), Type.Literal('SALES_REP')]);

export const UserDto = Type.Object({
  id: Type.String(),
  email: Type.String(),
  fullName: Nullable(Type.String()),
  organizationId: Type.String(),
  accessRole: AccessRoleSchema,
  createdAt: Timestamp,
});

export const RegisterBody = Type.Object(
  {
    email: Type.String({ format: 'email', maxLength: 320 }),
    password: Type.String({ maxLength: 1024 }),
    fullName: Type.Optional(Type.String({ maxLength: 200 })),
    organizationName: Type.String({ minLength: 1, maxLength: 200 }),
  },
  { additionalProperties: false },
);

export const LoginBody = Type.Object(
  { email: Type.String({ maxLength: 320 }), password: Type.String({ maxLength: 1024 }) },
  { additionalProperties: false },
);

const Session = Type.Object({ token: Type.String(), user: UserDto });

// Tether clients read `token`/`user` at the top level; envelope-aware clients read `data`.
export const SessionResponse = Type.Intersect([Envelope(Session), Session]);

export const VerifyResponse = Type.Object({
  success: Type.Literal(true),
  message: Type.Literal('Token is good'),
  data: Type.Object({ user: UserDto }),
});
