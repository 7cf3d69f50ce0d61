import type { ApiError } from '@/lib/types';
import { fieldErrors, generalErrors } from '@/lib/browser-api';

// Errors without a field go at the top of the form.
export function GeneralErrors({ errors }: { errors: ApiError[] }) {
  const list = generalErrors(errors);
  if (!list.length) return null;
  return (
    <div className="alert" role="alert">
      <ul>
        {list.map((m) => (
          <li key={m}>{m}</li>
        ))}
      </ul>
    </div>
  );
}

// Errors of one field go right under its input.
export function FieldErrors({ errors, field }: { errors: ApiError[]; field: string }) {
  const list = fieldErrors(errors, field);
  if (!list.length) return null;
  return (
    <ul className="field-errors" role="alert" aria-label={`${field} errors`}>
      {list.map((m) => (
        <li key={m}>{m}</li>
      ))}
    </ul>
  );
}
