import { Type, type TSchema } from '@sinclair/typebox';

/** `{success: true, message?, data}` around a payload schema. */
export const Envelope = <T extends TSchema>(data: T) =>
  Type.Object({ success: Type.Literal(true), message: Type.Optional(Type.String()), data });

export const NativeError = Type.Object(
  {
    success: Type.Literal(false),
    error: Type.String(),
    message: Type.Optional(Type.String()),
    details: Type.Optional(Type.Array(Type.Object({ field: Type.String(), message: Type.String() }))),
  },
  { $id: 'NativeError', additionalProperties: true },
);

/** The error responses every authenticated native route can give. */
export const nativeErrors = (...statuses: number[]) =>
  Object.fromEntries([400, 401, ...statuses].map((status) => [status, Type.Ref('NativeError')]));

export const IdParams = Type.Object({ id: Type.String({ description: '24-hex-character id' }) });

// Handlers return Date objects; the serializer writes them as ISO 8601 strings.
export const Timestamp = Type.Unsafe<Date | string>({ type: 'string', format: 'date-time' });

/** The pattern of text that says something: one character that is not whitespace. */
export const NON_BLANK = '\\S';

/** Text of at most `maxLength` characters that is not empty or only whitespace. */
export const NonBlankText = (maxLength: number, options: { description?: string } = {}) =>
  Type.String({ minLength: 1, maxLength, pattern: NON_BLANK, ...options });

export const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);
