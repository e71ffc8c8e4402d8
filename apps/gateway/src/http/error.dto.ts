import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

/** Every error answer. */
export class ErrorDto {
  @ApiProperty({ example: 'value must be a string, got number' }) error!: string;
  @ApiPropertyOptional({ description: 'The offending field (400, 413)', example: 'value' }) field?: string;
  @ApiPropertyOptional({ description: 'The request id to retry with (503, 504)' }) requestId?: string;
}
