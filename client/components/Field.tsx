import type { ApiError } from '@/lib/types';
import { FieldErrors } from './FormErrors';

type Props = {
  label: string;
  name: string;
  value: string;
  onChange: (v: string) => void;
  errors: ApiError[];
  type?: string;
  inputMode?: 'decimal' | 'text' | 'email';
  autoComplete?: string;
};

export function Field({ label, name, value, onChange, errors, type = 'text', inputMode, autoComplete }: Props) {
  const invalid = errors.some((e) => e.field === name);
  return (
    <div className="field">
      <label htmlFor={name}>{label}</label>
      <input
        id={name}
        name={name}
        type={type}
        value={value}
        inputMode={inputMode}
        autoComplete={autoComplete}
        aria-invalid={invalid}
        className={invalid ? 'invalid' : undefined}
        onChange={(e) => onChange(e.target.value)}
      />
      <FieldErrors errors={errors} field={name} />
    </div>
  );
}
