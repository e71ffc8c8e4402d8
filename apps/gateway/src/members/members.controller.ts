import { Body, Controller, Delete, Get, HttpCode, Param, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { ApiProblem } from '../http/api-docs';
import { AdminTokenGuard } from '../admin/admin-token.guard';
import { AddMemberDto, MemberDto, MembersDto, TransferDto } from './members.dto';
import { Members } from './members';

const MEMBER = { name: 'id', description: 'A member id', example: 'n4' };

@ApiTags('cluster')
@Controller('v1/members')
export class MembersController {
  constructor(private readonly members: Members) {}

  @Get()
  @ApiOperation({
    summary:
      "The replicated membership (Raft: the leader's latest configuration; PBFT: the configuration in force that f+1 replicas vouch for, and the staged plan): each member's role and progress",
  })
  @ApiOkResponse({ type: MembersDto })
  list(): object {
    return this.members.list();
  }
}

/** The admin API's membership routes (Bearer token, like every admin action). */
@ApiTags('admin')
@ApiBearerAuth()
@UseGuards(AdminTokenGuard)
@ApiProblem(401, 'ADMIN_TOKEN is set and the bearer token is missing or wrong')
@ApiProblem(501, 'PBFT: leadership transfer does not exist (the primary is replicas[v mod n]); or this gateway holds no admin signing key')
@ApiProblem(503, 'No leader is known, or the new leader is not ready; retry')
@ApiProblem(504, 'The leader (PBFT: f+1 replicas) did not confirm in time; the change may still take effect (GET /v1/members)')
@Controller('v1/admin')
export class MembersAdminController {
  constructor(private readonly members: Members) {}

  @Post('members')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Add a replica: as a learner, or as a voter (added as a learner, promoted once caught up). The launcher starts its process.',
    description:
      'PBFT: every configuration has n = 3f+1 replicas (4, 7, 10, ...), so one id per call is staged: the replica starts at once, trusting the configuration in force, and votes on nothing (role learner) until a reconfiguration takes it in; it fetches the state by certified state transfer once that change is decided. A voter counts in the next replica set; the gateway signs the reconfiguration with the admin key and sends it as soon as the staged set (with staged removals) has a valid size, answering on f+1 matching replies. Growing 4 -> 7 is three adds; replacing one replica is an add and a remove. A staged answer carries `pending` (the plan and the rule); a sent one `decided` and the new `configuration`.',
  })
  @ApiOkResponse({ type: MemberDto })
  @ApiProblem(400, 'Bad body (the field is named)')
  @ApiProblem(404, 'Not a provisioned replica identity')
  @ApiProblem(
    409,
    'Already a member, a change is in flight (PBFT: a reconfiguration pending; the plan stays staged), or the new voter did not catch up in time (it stays a learner)',
  )
  add(@Body() body: AddMemberDto): Promise<object> {
    return this.members.add(body.id, body.role);
  }

  @Post('members/:id/promote')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Make a learner a voter; refused while it is behind the leader. PBFT: counts a staged replica in the next set (sent once the set is 3f+1)',
  })
  @ApiParam(MEMBER)
  @ApiOkResponse({ type: MemberDto })
  @ApiProblem(404, 'Not a member')
  @ApiProblem(409, 'Not a learner, behind the leader, or a change is in flight')
  promote(@Param('id') id: string): Promise<object> {
    return this.members.promote(id);
  }

  @Post('members/:id/demote')
  @HttpCode(200)
  @ApiOperation({
    summary:
      'Make a voter a learner (the leader too: it steps down once the change commits). PBFT: only a staged replica (members all vote: 409, remove it instead)',
  })
  @ApiParam(MEMBER)
  @ApiOkResponse({ type: MemberDto })
  @ApiProblem(404, 'Not a member')
  @ApiProblem(409, 'Not a voter, the last voter, or a change is in flight')
  demote(@Param('id') id: string): Promise<object> {
    return this.members.demote(id);
  }

  @Delete('members/:id')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Remove a member (the leader too: it hands off once the change commits); the launcher stops its process',
    description:
      'PBFT: staged like an add until the next set is 3f+1 (shrinking 7 -> 4 is three removes; the primary may be one of them). A removed replica keeps serving state transfer until 2f+1 of the new set hold the checkpoint at the boundary; then the launcher stops it.',
  })
  @ApiParam(MEMBER)
  @ApiOkResponse({ type: MemberDto })
  @ApiProblem(404, 'Not a member')
  @ApiProblem(409, 'The last voter, or a change is in flight')
  remove(@Param('id') id: string): Promise<object> {
    return this.members.remove(id);
  }

  @Post('leader/transfer')
  @HttpCode(200)
  @ApiOperation({ summary: 'Hand leadership to a voter (thesis §3.10); answers once it leads' })
  @ApiProblem(400, 'Bad body (the field is named)')
  @ApiProblem(404, 'Not a member')
  @ApiProblem(409, 'The target is a learner')
  transfer(@Body() body: TransferDto): Promise<object> {
    return this.members.transfer(body.to);
  }
}
