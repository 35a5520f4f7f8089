// Request bodies of the Appmixer user API, validated by the global ValidationPipe (class-validator). Its
// messages name the field and the rule, never the value sent. Pipes run after guards, so the throttlers have
// already counted an attempt that fails here.

import { Transform } from 'class-transformer';
import { IsEmail, IsNotEmpty, IsOptional, IsString, MaxLength, ValidateIf } from 'class-validator';

const trimmed = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value);

/** Sign in with `username` or, without one, `email`. */
export class SignInDto {
  // Required unless an e-mail is given.
  @ValidateIf((body: SignInDto) => body.email === undefined || body.username !== undefined)
  @IsNotEmpty()
  @MaxLength(256)
  @IsString()
  username?: string;

  @IsOptional()
  @IsNotEmpty()
  @MaxLength(256)
  @IsString()
  email?: string;

  @IsNotEmpty()
  @MaxLength(1024)
  @IsString()
  password!: string;
}

export class SignUpDto {
  @IsNotEmpty()
  @MaxLength(256)
  @IsString()
  username!: string;

  // Surrounding spaces are allowed and trimmed: one mailbox however it is written.
  @Transform(trimmed)
  @MaxLength(254)
  @IsEmail()
  @IsString()
  email!: string;

  @IsNotEmpty()
  @MaxLength(1024)
  @IsString()
  password!: string;
}
