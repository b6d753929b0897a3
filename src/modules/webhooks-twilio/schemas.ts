import { Type } from '@sinclair/typebox';

export const FormBody = Type.Record(Type.String(), Type.String());

export const StatusQuery = Type.Object({ message: Type.Optional(Type.String({ description: 'our message id, in the callback URL we gave' })) });

export const EmptyTwiml = Type.String({ description: 'empty TwiML' });

export const callbackErrors = { 400: Type.Ref('NativeError'), 403: Type.Ref('NativeError') };
