import { IsOptional, IsString, MaxLength } from 'class-validator';

// The body is optional, and so are its fields: missing credentials are invalid credentials (401). A field that
// is there must be a string (400 otherwise).
export class AuthenticateDto {
  @IsOptional()
  @MaxLength(256)
  @IsString()
  username?: string;

  @IsOptional()
  @MaxLength(1024)
  @IsString()
  password?: string;
}
