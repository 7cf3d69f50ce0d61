export declare const staticHeaders: { key: string; value: string }[];
export declare function contentSecurityPolicy(o: { nonce: string; stripe: boolean; dev: boolean }): string;
