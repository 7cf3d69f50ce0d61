import { SignOut } from '@/components/SignOut';

export default function SignOutPage() {
  return <SignOut />;
}
