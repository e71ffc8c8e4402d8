import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

// Shapes for the OpenAPI document; the bodies themselves are checked by kv-input.ts.

export class PutBodyDto {
  @ApiProperty({ example: 'blue', description: 'At most MAX_VALUE_BYTES (UTF-8) bytes' }) value!: string;
}

export class CasBodyDto {
  @ApiProperty({ type: String, nullable: true, example: 'blue', description: 'The current value required, or null for "key must be absent"' })
  expected!: string | null;
  @ApiProperty({ example: 'green' }) value!: string;
}

export class ItemDto {
  @ApiProperty({ example: 'color' }) key!: string;
  @ApiProperty({ example: 'blue' }) value!: string;
  @ApiProperty({ example: 42, description: 'Log position of the last change' }) revision!: number;
}

export class DeleteResultDto {
  @ApiProperty() key!: string;
  @ApiProperty({ description: 'false when the key was absent' }) deleted!: boolean;
  @ApiProperty() revision!: number;
}

export class CasResultDto {
  @ApiProperty() succeeded!: boolean;
  @ApiProperty({ type: String, nullable: true, description: 'The value now (the new one on success, the current one on failure)' })
  value!: string | null;
  @ApiProperty() revision!: number;
}

export class ListResultDto {
  @ApiProperty({ type: [ItemDto] }) items!: ItemDto[];
}

export class NotFoundDto {
  @ApiProperty({ example: 'not found' }) error!: string;
  @ApiPropertyOptional() key?: string;
}
